"""Time at the edge: "today" and "this month" in a collective's own timezone, and UTC
timestamps shown in a viewer's zone. Services take dates as arguments and never call these;
views, commands and jobs do, and pass the result in."""
from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: Names the zone database lists that are not zones: "localtime" is the machine's own zone,
#: which would follow the server wherever it runs.
_NOT_ZONES = frozenset({"localtime"})


@cache
def timezone_names() -> tuple[str, ...]:
    """Every IANA timezone name this machine knows, sorted."""
    return tuple(sorted(available_timezones() - _NOT_ZONES))


@cache
def _by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in timezone_names()}


def canonical_timezone(name: str) -> str | None:
    """The IANA spelling of `name`, matched case-insensitively; None if there is none."""
    return _by_folded_name().get((name or "").strip().casefold())


def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo for a stored name; UTC for an empty or unknown one."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def now_utc() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


def today_in(timezone: str | None, now: datetime | None = None) -> date:
    """The calendar date in `timezone` at `now` (default: this instant). For the edges."""
    return date_at(now or now_utc(), timezone)


def date_at(moment: datetime, timezone: str | None) -> date:
    """The calendar date in `timezone` at a given instant; reads no clock, so services may
    use it on the `now` their caller gave them."""
    return moment.astimezone(zone(timezone)).date()


def month_start(day: date) -> date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def local_time(moment: datetime | None, timezone: str | None) -> str:
    """A UTC timestamp as local wall time with the zone named: '2026-11-26 20:31 Asia/Manila'."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    tz = zone(timezone)
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} {tz.key}"
