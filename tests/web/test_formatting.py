"""Numbers, plurals, days and months through Babel, as the templates' filters show them."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from flask import render_template_string

from collective.web.formatting import compact, day_label, month_label, month_name, number, plural


@pytest.mark.parametrize(("count", "word", "expected"), [
    (1, "hour", "1 hour"), (3, "hour", "3 hours"), (0, "hour", "0 hours"),
    (1.5, "hour", "1.5 hours"), (1, "month", "1 month"), (2, "month", "2 months"),
    (1, "waiting month", "1 waiting month"), (2, "waiting month", "2 waiting months"),
    (2_000, "run", "2,000 runs"), (Decimal("1"), "day", "1 day"),
])
def test_plural_puts_the_noun_in_the_form_the_count_needs(count, word, expected):
    assert plural(count, word) == expected


def test_plural_takes_an_irregular_plural():
    assert plural(2, "person", "people") == "2 people"
    assert plural(1, "person", "people") == "1 person"


def test_months_days_and_numbers_read_as_people_write_them():
    assert month_label("2026-08") == "Aug 2026"
    assert month_label(date(2026, 8, 17)) == "Aug 2026"
    assert month_label(datetime(2026, 12, 1, 5)) == "Dec 2026"
    assert month_label("Year 3") == "Year 3"  # not a month: unchanged
    assert month_label(None) == ""
    assert month_name("2026-08") == "August 2026"
    assert day_label(date(2026, 8, 5)) == "Aug 5, 2026"
    assert day_label("2026-08-05") == "Aug 5, 2026"  # as a proposal's payload keeps it
    assert number(1250) == "1,250"
    assert compact(1665) == "1.7K" and compact(Decimal("33.75")) == "34"


def test_the_filters_reach_the_templates(app):
    with app.test_request_context():
        html = render_template_string(
            "{{ 1|plural('hour') }}; {{ 3|plural('hour') }}; {{ '2026-08'|month_label }}; "
            "{{ d|month_name }}; {{ d|day }}; {{ 12345|number }}", d=date(2026, 8, 5))
    assert html == "1 hour; 3 hours; Aug 2026; August 2026; Aug 5, 2026; 12,345"
