"""The audit log's page for treasurers: /c/<slug>/audit, filtered by action, member and
days, AUDIT_PAGE events a page, and the same events as a CSV download (docs/audit.md)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, g, render_template, request, stream_with_context

from collective.audit import queries, record_apart
from collective.audit.actions import action_label
from collective.extensions import db
from collective.members import services
from collective.members.forms import AuditFilterForm
from collective.members.models import Membership, User
from collective.members.pickers import offer_members
from collective.roles import Role
from collective.web.paging import page_number
from collective.web.scoping import collective_view

bp = Blueprint("audit", __name__, url_prefix="/c/<slug>")
#: Events a page of the log shows.
AUDIT_PAGE = 50
#: The query parameters of the filter, kept in the page links and the CSV link.
FILTERS = ("action", "member", "date_from", "date_to")


def _filter_form() -> AuditFilterForm:
    """The filter form from the query string; its member field lists the members while the
    collective is small and searches them above that (members.pickers), removed members
    too: their events stay in the log."""
    form = AuditFilterForm(request.args)
    offer_members(form.member, g.collective, with_removed=True)
    return form


def _wanted(form: AuditFilterForm) -> queries.AuditFilter:
    user_id = db.session.scalar(
        sa.select(Membership.user_id).where(Membership.id == form.member.data,
                                            Membership.collective_id == g.collective.id)
    ) if form.member.data else None
    return queries.AuditFilter(
        action=form.action.data or None, user_id=user_id,
        membership_id=form.member.data if user_id is not None else None,
        date_from=form.date_from.data, date_to=form.date_to.data,
        timezone=g.collective.timezone)


def _actor_names(events: list) -> dict[int, str]:
    """The names of the accounts that acted in `events` (one query, a page's worth)."""
    ids = {e.actor_user_id for e in events if e.actor_user_id}
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all())


def _page(form: AuditFilterForm, events: list | None = None, *, page: int = 1,
          status: int = 200):
    """The log page: the form, one page of events, and links that keep the filter."""
    events = (events or [])[:AUDIT_PAGE + 1]
    shown = events[:AUDIT_PAGE]
    return render_template(
        "audit/log.html", form=form, events=shown, more=len(events) > AUDIT_PAGE,
        page=page, filters={name: request.args[name] for name in FILTERS
                            if request.args.get(name)},
        names=_actor_names(shown), details_of=queries.details_of,
        action_label=action_label), status


@bp.get("/audit")
@collective_view(Role.TREASURER)
def log():
    """Treasurers: the collective's audit log, newest first, AUDIT_PAGE events a page
    (`?page=N`; what is not a page number shows the first), filtered by the form."""
    form = _filter_form()
    page = page_number()
    if not form.validate():
        return _page(form, status=422)
    events = queries.events_page(g.collective.id, services.member_accounts(g.collective.id),
                                 _wanted(form), limit=AUDIT_PAGE + 1,
                                 offset=(page - 1) * AUDIT_PAGE)
    return _page(form, events, page=page)


@bp.get("/audit.csv")
@collective_view(Role.TREASURER)
def log_csv():
    """Treasurers: download every event the filter matches, as CSV (the download is itself
    recorded, before its first byte)."""
    form = _filter_form()
    if not form.validate():
        return _page(form, status=422)
    wanted = _wanted(form)
    collective_id, slug = g.collective.id, g.collective.slug
    record_apart("export.audit_log", collective=collective_id, filter_action=wanted.action,
                 filter_membership=wanted.membership_id, date_from=wanted.date_from,
                 date_to=wanted.date_to)
    chunks = services.audit_log_csv(collective_id, wanted)
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-audit-log.csv"'
    return response
