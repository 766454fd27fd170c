"""Time at the edge: the collective's own today, case-insensitive zones, zones named."""
from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine

from collective.clock import canonical_timezone, local_time, timezone_names, today_in

#: 00:30 on 1 December in Manila is still 30 November in UTC.
MANILA_MIDNIGHT = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)


def test_today_is_the_collectives_own_date_where_utc_and_manila_differ():
    with time_machine.travel(MANILA_MIDNIGHT, tick=False):
        assert today_in("Asia/Manila") == date(2026, 12, 1)
        assert today_in("UTC") == date(2026, 11, 30)
        assert today_in("America/Los_Angeles") == date(2026, 11, 30)


def test_new_year_arrives_in_manila_first():
    with time_machine.travel(datetime(2026, 12, 31, 16, 0, 1, tzinfo=UTC), tick=False):
        assert today_in("Asia/Manila") == date(2027, 1, 1)
        assert today_in("UTC") == date(2026, 12, 31)


def test_timezone_names_match_case_insensitively_and_unknown_ones_do_not():
    assert "Asia/Manila" in timezone_names()
    assert canonical_timezone("  asia/MANILA ") == "Asia/Manila"
    assert canonical_timezone("Mars/Olympus") is None
    assert canonical_timezone("") is None


def test_a_utc_timestamp_is_shown_in_a_zone_with_the_zone_named():
    assert local_time(MANILA_MIDNIGHT, "Asia/Manila") == "2026-12-01 00:30 Asia/Manila"
    assert local_time(MANILA_MIDNIGHT, "Australia/Sydney") == "2026-12-01 03:30 Australia/Sydney"
    assert local_time(MANILA_MIDNIGHT, None) == "2026-11-30 16:30 UTC"
