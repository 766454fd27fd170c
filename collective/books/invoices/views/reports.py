"""The receivables aging report, as a page and as CSV."""
from __future__ import annotations

from flask import Response, g, render_template

from collective.books.invoices import compute, queries
from collective.books.invoices.views.base import C, T, bp
from collective.web.scoping import collective_view


@bp.get("/aging")
@collective_view(C, T)
def aging():
    """What clients owe, per client, by days past due (in the base currency)."""
    return render_template("books/invoices/aging.html",
                           rows=queries.aging_report(g.collective.id, g.today),
                           buckets=[b[0] for b in compute.BUCKETS], as_of=g.today)


@bp.get("/aging.csv")
@collective_view(C, T)
def aging_csv():
    """The aging report as CSV, amounts in major units of the base currency."""
    name = f"{g.collective.slug}-aging-{g.today.isoformat()}.csv"
    return Response(queries.aging_csv(g.collective.id, g.collective.base_currency, g.today),
                    mimetype="text/csv",
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{name}"'})
