"""What a notification says: moments in the recipient's timezone (Babel), amounts through
format_money, and paths to the page concerned, built from the app's routes."""
from __future__ import annotations

from datetime import UTC, date, datetime

from babel.dates import format_date, format_datetime
from flask import current_app

from collective.clock import zone
from collective.money import format_money

LOCALE = "en_US"

__all__ = ["day", "format_money", "page", "when"]


def when(moment: datetime, timezone: str | None, locale: str = LOCALE) -> str:
    """A stored UTC moment as the recipient's wall time, zone named: 'Fri, Nov 27, 2026,
    5:30 PM (Asia/Manila)'."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    tz = zone(timezone)
    return f"{format_datetime(moment, 'EEE, MMM d, y, h:mm a', tzinfo=tz, locale=locale)} " \
           f"({tz.key})"


def day(value: date, locale: str = LOCALE) -> str:
    """A calendar day as members read it: 'Oct 5, 2026'."""
    return format_date(value, "medium", locale=locale)


def page(endpoint: str, **values: object) -> str:
    """The path of a page (e.g. '/c/coop/proposals/3'), without a request: the scheduler
    notifies too."""
    return current_app.url_map.bind("localhost").build(endpoint, values)
