"""Time at the edge: the collective's own today, case-insensitive zones, zones named."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from collective.clock import (
    PeriodError,
    canonical_timezone,
    local_time,
    parse_period,
    timezone_names,
    today_in,
)

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


@pytest.mark.parametrize(("text", "month"), [("2026-10", date(2026, 10, 1)),
                                             (" 1999-01 ", date(1999, 1, 1))])
def test_a_period_is_read_as_yyyy_mm(text, month):
    assert parse_period(text) == month


@pytest.mark.parametrize("text", ["26-1", "2026-1", "2026-13", "2026-00", "2026-10-01",
                                  "202610", "٢٠٢٦-١٠", "２０２６-１０", "0000-01", "", None])
def test_anything_but_yyyy_mm_is_not_a_period(text):
    with pytest.raises(PeriodError, match="write the period as YYYY-MM, like 2026-10"):
        parse_period(text)


def test_a_city_alone_names_its_zone_when_only_one_zone_has_it():
    assert canonical_timezone("Manila") == "Asia/Manila"
    assert canonical_timezone("  new york ") == "America/New_York"
    assert canonical_timezone("new_york") == "America/New_York"
    assert canonical_timezone("asia/manila") == "Asia/Manila"
    assert canonical_timezone("Atlantis") is None
