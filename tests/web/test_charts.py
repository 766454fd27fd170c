"""The SVG charts: responsive (a viewBox, 100% wide), text of at least 12 px on a phone,
months written 'Aug 2026', tick labels that never overlap, and the forecast's median line
with its band."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from collective.benefits.compute import add_months
from collective.web.charts import (
    FONT,
    WIDTH,
    band_chart,
    bar_chart,
    grouped_bar_chart,
    paired_bar_chart,
    text_width,
)

NS = "{http://www.w3.org/2000/svg}"
#: The narrowest content column the pages give a chart: a 375 px phone less 1rem each side.
PHONE_COLUMN = 375 - 32


def _svg(markup) -> ET.Element:
    return ET.fromstring(str(markup).replace("<svg ", f'<svg xmlns="{NS[1:-1]}" ', 1))


def _texts(svg: ET.Element, css: str | None = None) -> list[ET.Element]:
    return [t for t in svg.iter(f"{NS}text")
            if css is None or css in (t.get("class") or "").split()]


def _font_px(text: ET.Element) -> float:
    style = dict(part.split(":") for part in text.get("style").split(";") if part)
    return float(style["font-size"].removesuffix("px"))


def _months(n: int, start: date = date(2025, 1, 1)) -> list[str]:
    return [f"{add_months(start, i):%Y-%m}" for i in range(n)]


def _charts():
    months = _months(12)
    return {
        "bar": bar_chart([(m, 100_000 + i * 7_777) for i, m in enumerate(months)],
                         title="t", currency="USD"),
        "bar with negatives": bar_chart([(m, (-1) ** i * 123_456) for i, m in enumerate(months)],
                                        title="t", currency="USD"),
        "grouped": grouped_bar_chart([(m, [5_000, 7_500]) for m in months[:3]],
                                     series=["In from clients", "Out to members"], title="t",
                                     currency="USD"),
        "paired": paired_bar_chart([("Grace Villanueva", 40, 30), ("Joy", 5, 30)], title="t",
                                   value_label="hours", limit_label="capacity", unit=" h"),
        "band": band_chart([("Now" if i == 0 else ("Year 1" if i == 12 else ""), 1000 + i,
                             900, 1100 + i) for i in range(25)],
                           title="t", line_label="the median case", band_label="8 in 10",
                           currency="USD"),
    }


@pytest.mark.parametrize("name", list(_charts()))
def test_every_chart_scales_to_its_column_by_a_viewbox(name):
    svg = _svg(_charts()[name])
    assert svg.get("viewBox").split()[:3] == ["0", "0", str(WIDTH)]
    assert svg.get("width") == "100%"
    assert svg.get("height") is None
    assert "max-width" in svg.get("style")


@pytest.mark.parametrize("name", list(_charts()))
def test_chart_text_is_at_least_12_px_on_a_phone(name):
    texts = _texts(_svg(_charts()[name]))
    assert texts
    smallest = min(_font_px(t) for t in texts)
    assert smallest * PHONE_COLUMN / WIDTH >= 12


def test_month_labels_read_like_aug_2026():
    svg = _svg(bar_chart([("2026-08", 5), (date(2026, 9, 1), 7)], title="t"))
    assert [t.text for t in _texts(svg, "tick")] == ["Sep 2026", "Aug 2026"]
    grouped = _svg(grouped_bar_chart([("2026-08", [5])], series=["Earned"], title="t"))
    assert "Aug 2026" in [t.text for t in _texts(grouped)]
    assert "2026-08" not in str(grouped_bar_chart([("2026-08", [5])], series=["x"], title="t"))


@pytest.mark.parametrize("count", [1, 2, 6, 12, 24, 60])
def test_tick_labels_never_overlap_and_stay_inside(count):
    svg = _svg(bar_chart([(m, 1_000 * (i + 1)) for i, m in enumerate(_months(count))],
                         title="t", currency="USD"))
    ticks = sorted(_texts(svg, "tick"), key=lambda t: float(t.get("x")))
    assert ticks and ticks[-1].text == month_of(count - 1)  # the newest month is always named
    for left, right in zip(ticks, ticks[1:], strict=False):
        room = (text_width(left.text) + text_width(right.text)) / 2
        assert float(right.get("x")) - float(left.get("x")) >= room
    for tick in ticks:
        half = text_width(tick.text) / 2
        assert 0 <= float(tick.get("x")) - half and float(tick.get("x")) + half <= WIDTH
    if count >= 12:
        assert len(ticks) < count  # thinned


def month_of(i: int) -> str:
    return f"{add_months(date(2025, 1, 1), i):%b %Y}"


def test_values_too_wide_for_their_bars_are_shortened_and_full_in_the_tooltips():
    svg = _svg(bar_chart([(m, 166_500) for m in _months(6)], title="t", currency="USD"))
    assert {t.text for t in _texts(svg, "value")} == {"1.7K"}
    assert "1,665.00" in [title.text.split(": ")[1] for title in svg.iter(f"{NS}title")
                          if ": " in (title.text or "")]


def test_the_forecast_chart_names_the_median_case_and_draws_its_band():
    points = [("Now", 5_000, 5_000, 5_000)] + [
        ("Year 1" if i == 11 else "", 5_000 + i, 4_000 - i, 6_000 + 2 * i) for i in range(12)]
    svg = _svg(band_chart(points, title="Fund balance: the median case",
                          line_label="Line: the median case", band_label="Band: 8 in 10",
                          currency="USD"))
    texts = [t.text for t in _texts(svg)]
    assert "Line: the median case" in texts and "Band: 8 in 10" in texts
    band = svg.find(f"{NS}polygon")
    assert band is not None and len(band.get("points").split()) == 2 * len(points)
    assert len(svg.find(f"{NS}polyline").get("points").split()) == len(points)
    # the highest value drawn is the band's top, written on its tick
    assert "60.22" in texts


def test_a_forecast_stored_without_a_band_draws_the_line_alone():
    svg = _svg(band_chart([("Now", 5, None, None), ("Year 1", 6, None, None)], title="t",
                          line_label="Line: the median case", band_label="Band"))
    assert svg.find(f"{NS}polygon") is None
    assert "Band" not in [t.text for t in _texts(svg)]
    assert svg.find(f"{NS}polyline") is not None


def test_an_empty_chart_says_so():
    assert "Nothing to show yet" in bar_chart([], title="t")
    assert "Nothing to show yet" in band_chart([], title="t", line_label="a", band_label="b")


def test_the_font_is_the_one_the_charts_promise():
    assert FONT * PHONE_COLUMN / WIDTH >= 12
