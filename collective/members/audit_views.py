"""The audit log's page for treasurers: /c/<slug>/audit, filtered by action, member and
days, AUDIT_PAGE events a page, and the same events as a CSV download (docs/audit.md)."""
from __future__ import annotations

from flask import Blueprint, Response, g, render_template, request, stream_with_context

from collective.audit import queries, record_apart
from collective.audit.actions import action_label
from collective.members import services
from collective.members.forms import AuditFilterForm
from collective.roles import Role
from collective.web.scoping import collective_view

bp = Blueprint("audit", __name__, url_prefix="/c/<slug>")
#: Events a page of the log shows.
AUDIT_PAGE = 50
#: The query parameters of the filter, kept in the page links and the CSV link.
FILTERS = ("action", "member", "date_from", "date_to")


def _filter_form() -> tuple[AuditFilterForm, dict[int, tuple[int, str]]]:
    """The filter form from the query string, and {membership id: (user id, name)} of
    everyone who is or was a member (the form's choices, and the actors' names)."""
    accounts = {membership_id: (user_id, name) for membership_id, user_id, name
                in services.member_accounts_named(g.collective.id)}
    form = AuditFilterForm(request.args)
    form.member.choices = [(0, "Anyone"), *((m, name) for m, (_, name) in accounts.items())]
    return form, accounts


def _wanted(form: AuditFilterForm, accounts: dict[int, tuple[int, str]]
            ) -> queries.AuditFilter:
    member = accounts.get(form.member.data) if form.member.data else None
    return queries.AuditFilter(
        action=form.action.data or None, user_id=member[0] if member else None,
        membership_id=form.member.data if member else None,
        date_from=form.date_from.data, date_to=form.date_to.data,
        timezone=g.collective.timezone)


def _names(accounts: dict[int, tuple[int, str]]) -> dict[int, str]:
    return {user_id: name for user_id, name in accounts.values()}


def _page(form: AuditFilterForm, accounts: dict[int, tuple[int, str]],
          events: list | None = None, *, page: int = 1, status: int = 200):
    """The log page: the form, one page of events, and links that keep the filter."""
    events = events or []
    return render_template(
        "audit/log.html", form=form, events=events[:AUDIT_PAGE], more=len(events) > AUDIT_PAGE,
        page=page, filters={name: request.args[name] for name in FILTERS
                            if request.args.get(name)},
        names=_names(accounts), details_of=queries.details_of,
        action_label=action_label), status


@bp.get("/audit")
@collective_view(Role.TREASURER)
def log():
    """Treasurers: the collective's audit log, newest first, AUDIT_PAGE events a page
    (`?page=N`; what is not a page number shows the first), filtered by the form."""
    form, accounts = _filter_form()
    page = request.args.get("page", 1, type=int)
    page = page if 1 <= page <= 100_000 else 1
    if not form.validate():
        return _page(form, accounts, status=422)
    events = queries.events_page(g.collective.id, services.member_accounts(g.collective.id),
                                 _wanted(form, accounts), limit=AUDIT_PAGE + 1,
                                 offset=(page - 1) * AUDIT_PAGE)
    return _page(form, accounts, events, page=page)


@bp.get("/audit.csv")
@collective_view(Role.TREASURER)
def log_csv():
    """Treasurers: download every event the filter matches, as CSV (the download is itself
    recorded, before its first byte)."""
    form, accounts = _filter_form()
    if not form.validate():
        return _page(form, accounts, status=422)
    wanted = _wanted(form, accounts)
    collective_id, slug = g.collective.id, g.collective.slug
    record_apart("export.audit_log", collective=collective_id, filter_action=wanted.action,
                 filter_membership=wanted.membership_id, date_from=wanted.date_from,
                 date_to=wanted.date_to)
    chunks = queries.csv_chunks(collective_id, services.member_accounts(collective_id), wanted,
                                _names(accounts))
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-audit-log.csv"'
    return response
