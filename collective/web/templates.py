"""Template filters and globals: money, charts, times in the viewer's timezone, numbers,
plurals, days and months through Babel (formatting.py), and the timezone names a timezone
field offers."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, g
from flask_login import current_user

from collective.clock import local_time, timezone_names
from collective.money import format_money, format_plain
from collective.web import formatting
from collective.web.charts import band_chart, bar_chart, grouped_bar_chart, paired_bar_chart


def viewer_timezone() -> str:
    """The viewer's own timezone, else the collective's, else UTC."""
    user_zone = getattr(current_user, "timezone", None) if current_user else None
    collective = g.get("collective")
    return user_zone or getattr(collective, "timezone", None) or "UTC"


def show_time(moment: datetime | None) -> str:
    """A stored UTC timestamp in the viewer's timezone, with the zone named."""
    return local_time(moment, viewer_timezone())


def show_date(moment: datetime | None) -> str:
    """The calendar day of a stored UTC timestamp in the viewer's timezone."""
    return show_time(moment)[:10]


def init_app(app: Flask) -> None:
    """Register the filters and globals every template may use."""
    for chart in (bar_chart, band_chart, grouped_bar_chart, paired_bar_chart):
        app.jinja_env.globals[chart.__name__] = chart
    app.jinja_env.globals["timezone_names"] = timezone_names
    app.jinja_env.filters["money"] = lambda amount, currency: format_money(amount, currency)
    app.jinja_env.filters["plain_money"] = format_plain
    app.jinja_env.filters["local_time"] = show_time
    app.jinja_env.filters["local_date"] = show_date
    app.jinja_env.filters["number"] = formatting.number
    app.jinja_env.filters["plural"] = formatting.plural
    app.jinja_env.filters["month_label"] = formatting.month_label
    app.jinja_env.filters["month_name"] = formatting.month_name
    app.jinja_env.filters["day"] = formatting.day_label
