"""Report pages: ledger exports, member statements, balance sheet and income statement.

Every page here only reads; dates the person gives are checked by a service inside
`checked` (collective/web), and "today" is the collective's (g.today). A download is
recorded in the audit log, in a transaction of its own, before its first byte."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, g, render_template, request

from collective import audit
from collective.clock import now_utc
from collective.members import pickers
from collective.members import services as members
from collective.members.models import Role
from collective.reports import dashboard as dashboards
from collective.reports import exports, getting_started, pdf, services
from collective.reports.forms import AsOfForm, ExportForm, PeriodForm
from collective.standards.queries import checklist_shares, percent
from collective.web.forms import valid_id
from collective.web.headers import streamed_download
from collective.web.paging import page_number
from collective.web.scoping import collective_view
from collective.web.transaction import checked

bp = Blueprint("reports", __name__, url_prefix="/c/<slug>/reports")
#: Members a page of the workload list shows.
WORKLOAD_PAGE = 50
#: The dashboard every member lands on: /c/<slug>/dashboard.
dashboard_bp = Blueprint("dashboard", __name__, url_prefix="/c/<slug>")
T = Role.TREASURER


def _year_start(today: date) -> date:
    return today.replace(month=1, day=1)


def _export_form() -> ExportForm:
    """The export form from the query string, offering the collective's members."""
    form = ExportForm(request.args)
    pickers.offer_members(form.member, g.collective)
    return form


@bp.get("/")
@collective_view(T)
def index():
    """Exports for the accountant, and the collective's statements."""
    form = _export_form()
    if not request.args:
        form.date_from.data, form.date_to.data = _year_start(g.today), g.today
    return render_template("reports/index.html", form=form)


@bp.get("/ledger")
@collective_view(T)
def export_ledger():
    """Download the ledger for a date range in CSV, XLSX or Beancount (streamed)."""
    form = _export_form()
    if form.validate():
        with checked(form) as ok:
            date_from, date_to = exports.check_range(form.date_from.data, form.date_to.data,
                                                     g.today)
            query = exports.LedgerQuery(g.collective.id, date_from, date_to,
                                        account_code=form.account.data or None,
                                        membership_id=form.member.data or None,
                                        kind=form.kind.data or None)
            chunks = exports.export_chunks(query, form.format.data, form.preset.data)
        if ok:
            name = exports.filename(g.collective.slug, query, form.format.data)
            audit.record_apart("export.ledger", collective=query.collective_id,
                               format=form.format.data, preset=form.preset.data,
                               date_from=query.date_from, date_to=query.date_to,
                               account=query.account_code, membership_id=query.membership_id,
                               kind=query.kind)
            return streamed_download(chunks, name, exports.MEDIA_TYPES[form.format.data])
    return render_template("reports/index.html", form=form), 422


def _statement_member(form: PeriodForm):
    """Whose statement: your own, or (for a treasurer) any member's."""
    wanted = form.member.data or g.membership.id
    if not valid_id(wanted) or (wanted != g.membership.id and not g.membership.has_role(T)):
        abort(404)  # a member sees only their own statement
    return members.get_membership(g.collective.id, wanted)  # NotFound: a 404


@bp.get("/statement", defaults={"fmt": "html"})
@bp.get("/statement.<any(csv, pdf):fmt>")
@collective_view()
def statement(fmt: str):
    """Your statement for a period: as a page, a CSV, or a PDF for a bank or tax office."""
    form = PeriodForm(request.args)
    if g.membership.has_role(T):
        pickers.offer_members(form.member, g.collective)  # a typed name finds its member
    else:
        form.member.choices = [(g.membership.id, g.membership.user.name)]
    if not request.args.get("date_from"):
        form.date_from.data, form.date_to.data = _year_start(g.today), g.today
    member = _statement_member(form)
    status = 200
    result = None
    if not request.args.get("date_from") or form.validate():
        with checked(form) as ok:
            date_from, date_to = exports.check_range(form.date_from.data, form.date_to.data,
                                                     g.today)
            result = services.member_statement(member, date_from, date_to)
        if not ok:
            status = 422
    else:
        status = 422
    if result is not None and fmt != "html":
        name = f"{g.collective.slug}-statement-{member.id}-{result.date_from}-{result.date_to}"
        audit.record_apart("export.statement", collective=member.collective_id,
                           subject=("membership", member.id), format=fmt,
                           date_from=result.date_from, date_to=result.date_to)
        if fmt == "csv":
            return streamed_download(iter([services.statement_csv(result)]), f"{name}.csv",
                             "text/csv; charset=utf-8")
        return streamed_download(iter([pdf.statement_pdf(result)]), f"{name}.pdf",
                         "application/pdf")
    if (member.id, member.user.name) not in form.member.choices:
        form.member.choices.append((member.id, member.user.name))
    form.member.data = member.id
    return render_template("reports/statement.html", form=form, statement=result,
                           member=member), status


@bp.get("/balance-sheet")
@collective_view(T)
def balance_sheet():
    """Balance sheet as of a date, and the income statement of the year to that date."""
    form = AsOfForm(request.args)
    as_of = (form.as_of.data if form.validate() else None) or g.today
    with checked(form, aliases={"date_from": "as_of", "date_to": "as_of"}) as ok:
        exports.check_range(as_of, as_of, g.today)
    if not ok:
        as_of = g.today
    currency = g.collective.base_currency
    return render_template(
        "reports/balance_sheet.html", form=form, as_of=as_of,
        sheet=services.balance_sheet(g.collective.id, currency, as_of),
        income=services.income_statement(g.collective.id, currency, _year_start(as_of), as_of))


@dashboard_bp.get("/dashboard/workload")
@collective_view(Role.COORDINATOR)
def workload():
    """Every member's weekly hours on active work against their capacity, most hours first,
    WORKLOAD_PAGE a page."""
    page = page_number()
    found = dashboards.workload(g.collective.id, limit=WORKLOAD_PAGE + 1,
                                offset=(page - 1) * WORKLOAD_PAGE)
    return render_template("reports/workload.html", workload=found.head(WORKLOAD_PAGE)
                           .to_dict("records"), page=page, more=len(found) > WORKLOAD_PAGE,
                           totals=dashboards.workload_totals(g.collective.id))


@dashboard_bp.get("/dashboard")
@collective_view()
def dashboard():
    """Your dashboard, with the coordinator's and treasurer's sections for those roles."""
    today, membership = g.today, g.membership
    coordination = money = None
    standards = []
    if membership.has_role(Role.COORDINATOR):
        coordination = dashboards.coordinator_dashboard(g.collective.id, today)
        standards = checklist_shares(g.collective.id, today)
    if membership.has_role(Role.TREASURER):
        money = dashboards.treasurer_dashboard(g.collective.id, today)
    steps = []
    if membership.has_role(Role.COORDINATOR, Role.TREASURER):
        steps = getting_started.first_steps(g.collective.id)
    return render_template("reports/dashboard.html",
                           mine=dashboards.member_dashboard(membership, today, now_utc()),
                           coordination=coordination, money=money, today=today,
                           standards=standards, percent=percent,
                           steps=steps if not all(step.done for step in steps) else [],
                           fresh=getting_started.is_fresh(g.collective.id),
                           VOTES_SHOWN=dashboards.VOTES_SHOWN)
