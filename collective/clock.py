"""Time at the edge: "today" and "this month" in a collective's own timezone, and UTC
timestamps shown in a viewer's zone. Services take dates as arguments and never call these;
views, commands and jobs do, and pass the result in."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
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
    names = {name.casefold(): name for name in timezone_names()}
    # A city alone ("Manila", "new york") names its zone when only one zone ends with it.
    cities: dict[str, list[str]] = {}
    for name in timezone_names():
        if "/" in name:
            cities.setdefault(name.rsplit("/", 1)[1].replace("_", " ").casefold(), []).append(name)
    for city, zones in cities.items():
        if len(zones) == 1:
            names.setdefault(city, zones[0])
            names.setdefault(city.replace(" ", "_"), zones[0])
    return names


def canonical_timezone(name: str) -> str | None:
    """The IANA spelling of `name`, matched case-insensitively, or of the one zone a city
    alone names ("manila" is Asia/Manila); None if there is none."""
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


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


#: A month as people type it: four ASCII digits, a hyphen, two (01-12).
_PERIOD = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")
#: A day as ISO writes it, ASCII digits only (date.fromisoformat also reads '20261001').
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class PeriodError(ValueError):
    """Text that is not a month written YYYY-MM."""


def parse_period(text: str | None) -> date:
    """'2026-10' to the first day of that month. Anything else ('26-1', '2026-1',
    '2026-10-01', other scripts' digits, year 0) raises PeriodError saying how to write it."""
    raw = (text or "").strip()
    if not _PERIOD.fullmatch(raw) or raw.startswith("0000"):
        raise PeriodError(f"{raw[:20] or 'an empty value'!r} is not a month: write the "
                          "period as YYYY-MM, like 2026-10")
    return date(int(raw[:4]), int(raw[5:]), 1)


def parse_day(text: str | None) -> date:
    """'2026-10-05' to a date; anything else (other layouts, other digits) a ValueError."""
    raw = (text or "").strip()
    if not _DAY.fullmatch(raw):
        raise ValueError(f"{raw[:20]!r} is not a date like 2026-10-01")
    return date.fromisoformat(raw)


def local_time(moment: datetime | None, timezone: str | None) -> str:
    """A UTC timestamp as local wall time with the zone named: '2026-11-26 20:31 Asia/Manila'."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    tz = zone(timezone)
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} {tz.key}"
