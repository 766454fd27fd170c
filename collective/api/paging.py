"""Lists: an opaque cursor, a bounded limit, and filters by date and state.

Every list is in the order of its rows' ids, oldest first. A page holds `limit` rows (50
unless asked, 200 at most) and `next_cursor`, which the next request sends back as `cursor`
(null on the last page); the Link header carries the same as rel="next". The cursor is the
last row's id, signed with the app's secret and bound to its list, so a cursor that was
altered, or taken from another list, is a 400 naming `cursor`, never a 500."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app, g, request, url_for
from itsdangerous import BadData, URLSafeSerializer

from collective.api.errors import ApiProblem
from collective.clock import zone
from collective.extensions import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_SALT = "collective-api-cursor"


class PageArgs(ma.Schema):
    """Where a page starts and how long it is."""

    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=500),
                              metadata={"description": "next_cursor of the page before."})
    limit = ma.fields.Integer(load_default=DEFAULT_LIMIT,
                              validate=ma.validate.Range(1, MAX_LIMIT),
                              metadata={"description": f"Rows a page holds (1 to {MAX_LIMIT})."})


class DatedPageArgs(PageArgs):
    """A page of a list that can be filtered by a date range, both days included."""

    since = ma.fields.Date(load_default=None, metadata={"description": "From this day on."})
    until = ma.fields.Date(load_default=None, metadata={"description": "Up to this day."})


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The schema of a page of `item`s: the rows and the cursor of the next page."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item), required=True),
        "next_cursor": ma.fields.String(required=True, allow_none=True, metadata={
            "description": "Send as `cursor` for the next page; null on the last."}),
    }, name=name)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_SALT)


def encode_cursor(list_name: str, last_id: int) -> str:
    """The opaque cursor of the page after the row `last_id` of the list `list_name`."""
    return _serializer().dumps([list_name, last_id])


def decode_cursor(list_name: str, cursor: str | None) -> int | None:
    """The id after which the page starts, or a 400 naming `cursor` when it was not made
    for this list by this app."""
    if not cursor:
        return None
    try:
        name, last_id = _serializer().loads(cursor)
    except (BadData, TypeError, ValueError):
        raise ApiProblem(400, "this cursor is not one the API gave", field="cursor") from None
    if name != list_name or not isinstance(last_id, int) or isinstance(last_id, bool):
        raise ApiProblem(400, "this cursor belongs to another list", field="cursor")
    return last_id


def check_range(args: dict) -> None:
    """A 422 naming `until` when the range ends before it starts."""
    since, until = args.get("since"), args.get("until")
    if since and until and until < since:
        raise ApiProblem(422, "the range ends before it starts", field="until")


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows and the next page's cursor."""

    items: Sequence[Any]
    next_cursor: str | None


def page_of(query: sa.Select, id_column: sa.ColumnElement[int], list_name: str, args: dict,
            *, convert: Callable[[Any], Any] | None = None, scalars: bool = True) -> Page:
    """Run `query` for the page `args` asks for (cursor, limit), in id order."""
    after = decode_cursor(list_name, args.get("cursor"))
    limit = args.get("limit") or DEFAULT_LIMIT
    if after is not None:
        query = query.where(id_column > after)
    query = query.order_by(id_column).limit(limit + 1)
    rows = list(db.session.scalars(query).unique() if scalars else db.session.execute(query))
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [row.id if scalars else row[0].id for row in rows]
    items = [convert(row) for row in rows] if convert else rows
    return Page(items, encode_cursor(list_name, ids[-1]) if more and ids else None)


def page_body(page: Page) -> dict:
    """A page as the response body, with a Link header for the next page set on the way."""
    if page.next_cursor is not None:
        args = {**request.view_args, **request.args.to_dict(), "cursor": page.next_cursor}
        g.api_next_page = url_for(request.endpoint, **args)
    return {"items": page.items, "next_cursor": page.next_cursor}


def add_link_header(response):
    """Link: <...>; rel="next" on a page that has a next one (set by page_body)."""
    next_page = g.pop("api_next_page", None)
    if next_page:
        response.headers["Link"] = f'<{next_page}>; rel="next"'
    return response


def day_range(column: sa.ColumnElement, args: dict, timezone: str | None = None) -> list:
    """Conditions keeping `column` within the days `since` to `until` (both included): a
    date column as it is, a timestamp by the collective's own calendar days."""
    check_range(args)
    since, until = args.get("since"), args.get("until")
    conditions = []
    if timezone is None:
        if since:
            conditions.append(column >= since)
        if until:
            conditions.append(column <= until)
        return conditions
    # A day at the calendar's very ends is no bound at all (and would not fit in UTC).
    where, first, last = zone(timezone), date(1, 1, 3), date(9999, 12, 29)
    if since and since >= first:
        conditions.append(column >= datetime.combine(since, time(), where))
    if until and until <= last:
        conditions.append(column < datetime.combine(until + timedelta(days=1), time(), where))
    return conditions
