"""Server-side SVG charts: no script, no CDN, readable without colour (values are written
on the bars or on the axis), and each chart comes with its table one click away.

Every chart draws in a viewBox as wide as a phone's content column (WIDTH) and is shown at
100% of its container, up to MAX_SCALE times that on wide screens. So a FONT-unit label
is about FONT pixels on a phone: at least 12 px from a 315 px column up. Labels are thinned
so that no two overlap (their widths are estimated from their length), and the full value
of every bar stays in its tooltip and in the table beside the chart."""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date

from markupsafe import Markup, escape

from collective.money import format_plain, to_decimal
from collective.web.formatting import compact, month_label

WIDTH = 340
FONT = 13
#: Average glyph width as a share of the font size for digits and Latin text in the
#: system sans-serif fonts; a little generous, so that estimates err towards more room.
CHAR = 0.62
MAX_SCALE = 1.3
EMPTY = Markup('<p class="muted">Nothing to show yet.</p>')

Label = str | date


def text_width(text: str, size: float = FONT) -> float:
    """The estimated width of a label in viewBox units."""
    return len(text) * size * CHAR


def _label(label: Label) -> str:
    """A chart label: months ('2026-08' or a date) as 'Aug 2026', other text unchanged."""
    return month_label(label)


def _formatter(format_value: Callable[[int], str] | None, currency: str | None
               ) -> Callable[[int], str]:
    if format_value is not None:
        return format_value
    return (lambda v: format_plain(v, currency)) if currency else str


def _svg(height: float, title: str, body: list[str], desc: str = "") -> Markup:
    described = f"<desc>{escape(desc)}</desc>" if desc else ""
    return Markup(
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet" '
        f'style="max-width:{WIDTH * MAX_SCALE:.0f}px"><title>{escape(title)}</title>'
        + described + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "start", css: str = "",
          bold: bool = False) -> str:
    weight = "font-weight:600;" if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" class="{css}" '
            f'style="font-size:{FONT}px;text-anchor:{anchor};{weight}">{escape(text)}</text>')


def _short(label: str, room: float) -> str:
    """A label cut to fit `room`; the full text stays in the tooltip and the table."""
    limit = max(int(room / (FONT * CHAR)), 4)
    return label if len(label) <= limit else label[: limit - 1] + "…"


def label_step(slot: float, labels: Sequence[str], gap: float = 6) -> int:
    """Label every step-th slot so that no two neighbouring labels overlap."""
    widest = max((text_width(label) for label in labels), default=0)
    return max(1, math.ceil((widest + gap) / slot)) if slot > 0 else 1


def _x_labels(xs: Sequence[float], labels: Sequence[str], slot: float, y: float) -> list[str]:
    """Centred labels under their slots, thinned from the last one (the newest) back, and
    kept inside the drawing."""
    widest = max((text_width(label) for label in labels), default=0)
    # room for the first and last labels, which are moved inwards to stay in the drawing
    step = label_step(slot, labels, gap=6 + max(0.0, widest / 2 - slot / 2))
    body = []
    for i in range(len(labels) - 1, -1, -step):
        half = text_width(labels[i]) / 2
        x = min(max(xs[i], half + 0.5), WIDTH - half - 0.5)
        body.append(_text(x, y, labels[i], anchor="middle", css="label tick"))
    return body


def bar_chart(
    points: Sequence[tuple[Label, int]],
    *,
    title: str,
    format_value: Callable[[int], str] | None = None,
    currency: str | None = None,
    height: int = 200,
) -> Markup:
    """A vertical bar chart; negative values hang below the axis. Values are written on the
    bars when they fit; otherwise the axis names the highest and lowest value."""
    if not points:
        return EMPTY
    fmt = _formatter(format_value, currency)
    values = [v for _, v in points]
    labels = [_label(label) for label, _ in points]
    texts = full = [fmt(v) for v in values]
    slot = WIDTH / len(points)
    bar = slot * 0.7
    if max(text_width(t) for t in texts) + 4 > slot and format_value is None:
        # shortened values ('1.7K') on the bars; the full ones are in the tooltips
        texts = [compact(to_decimal(v, currency) if currency else v) for v in values]
    on_bars = max(text_width(t) for t in texts) + 4 <= slot
    top, bottom = max(0, *values), min(0, *values)
    span = (top - bottom) or 1
    room = FONT + 6  # above the plot (and below it when bars hang down) for values
    plot = height - room * (2 if bottom < 0 else 1) - FONT - 10
    zero_y = room + plot * top / span
    body = [f'<line x1="0" x2="{WIDTH}" y1="{zero_y:.1f}" y2="{zero_y:.1f}" class="axis"/>']
    xs = []
    for i, (label, value, text, tip) in enumerate(zip(labels, values, texts, full,
                                                      strict=True)):
        x = i * slot + (slot - bar) / 2
        xs.append(x + bar / 2)
        length = plot * abs(value) / span
        y = zero_y - length if value >= 0 else zero_y
        body.append(
            f'<g><title>{escape(label)}: {escape(tip)}</title>'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{max(length, 1):.1f}" '
            f'class="bar{" negative" if value < 0 else ""}"/>'
            + (_text(x + bar / 2, (y - 4) if value >= 0 else (y + length + FONT), text,
                     anchor="middle", css="value") if on_bars else "")
            + "</g>")
    if not on_bars:
        body += _y_ticks(top, bottom, zero_y, plot / span, fmt)
    body += _x_labels(xs, labels, slot, height - 6)
    return _svg(height, title, body)


def _y_ticks(top: int, bottom: int, zero_y: float, scale: float,
             fmt: Callable[[int], str]) -> list[str]:
    """Dashed lines at the highest and lowest value, each with its value written on it."""
    body = []
    for value in {top, bottom} - {0}:
        y = zero_y - value * scale
        body.append(f'<line x1="0" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}" class="grid" '
                    f'stroke="currentColor" stroke-opacity=".35" stroke-dasharray="3 3"/>')
        body.append(_text(2, y - 3 if value > 0 else y + FONT, fmt(value), css="value tick-y"))
    return body


def band_chart(
    points: Sequence[tuple[Label, int, int | None, int | None]],
    *,
    title: str,
    line_label: str,
    band_label: str,
    format_value: Callable[[int], str] | None = None,
    currency: str | None = None,
    height: int = 220,
) -> Markup:
    """A line (say the median case of a forecast) inside a shaded band (say the 10th to the
    90th percentile), over time; each point is (label, line, low, high). Labels may be ''
    for points that get none. Without band values only the line is drawn."""
    if not points:
        return EMPTY
    fmt = _formatter(format_value, currency)
    has_band = all(lo is not None and hi is not None for _, _, lo, hi in points)
    values = [v for _, mid, lo, hi in points for v in (mid, lo, hi) if v is not None]
    top, bottom = max(0, *values), min(0, *values)
    span = (top - bottom) or 1
    legend = 2 * (FONT + 6) if has_band else FONT + 6
    # room for the highest value's label above the plot, the lowest's and the x labels below
    plot_top = legend + FONT + 8
    plot = height - plot_top - (FONT + 6 if bottom < 0 else 0) - FONT - 12
    scale = plot / span
    zero_y = plot_top + top * scale
    step_x = WIDTH / max(len(points) - 1, 1)
    xs = [i * step_x for i in range(len(points))]

    def y_of(value: int) -> float:
        return zero_y - value * scale

    body = [f'<line x1="0" x2="{WIDTH}" y1="{zero_y:.1f}" y2="{zero_y:.1f}" class="axis"/>',
            f'<line x1="12" x2="32" y1="{FONT / 2 + 2:.1f}" y2="{FONT / 2 + 2:.1f}" '
            f'class="line" stroke="currentColor" stroke-width="2.5"/>',
            _text(38, FONT + 2, line_label, css="label legend")]
    if has_band:
        body.append(f'<rect x="12" y="{FONT + 10}" width="20" height="{FONT - 2}" class="band" '
                    f'fill="currentColor" fill-opacity=".2"/>')
        body.append(_text(38, 2 * FONT + 8, band_label, css="label legend"))
        outline = ([f"{x:.1f},{y_of(hi):.1f}" for x, (_, _, _, hi) in zip(xs, points, strict=True)]
                   + [f"{x:.1f},{y_of(lo):.1f}"
                      for x, (_, _, lo, _) in reversed(list(zip(xs, points, strict=True)))])
        body.append(f'<polygon points="{" ".join(outline)}" class="band" fill="currentColor" '
                    f'fill-opacity=".2"/>')
    line = " ".join(f"{x:.1f},{y_of(mid):.1f}"
                    for x, (_, mid, _, _) in zip(xs, points, strict=True))
    body.append(f'<polyline points="{line}" class="line" fill="none" stroke="currentColor" '
                f'stroke-width="2.5"/>')
    for x, (label, mid, lo, hi) in zip(xs, points, strict=True):
        if label != "":
            tip = f"{_label(label)}: {fmt(mid)}"
            if has_band:
                tip += f" ({fmt(lo)} to {fmt(hi)})"
            body.append(f'<circle cx="{x:.1f}" cy="{y_of(mid):.1f}" r="3" fill="currentColor">'
                        f'<title>{escape(tip)}</title></circle>')
    body += _y_ticks(top, bottom, zero_y, scale, fmt)
    labelled = [(x, _label(label)) for x, (label, *_) in zip(xs, points, strict=True)
                if label != ""]
    if labelled:
        slot = (labelled[-1][0] - labelled[0][0]) / max(len(labelled) - 1, 1) or WIDTH
        body += _x_labels([x for x, _ in labelled], [t for _, t in labelled], slot, height - 6)
    return _svg(height, title, body, desc=f"{line_label}. {band_label}." if has_band else "")


_H_ROW = 18  # a bar row
_H_BAR = 13


def grouped_bar_chart(
    groups: Sequence[tuple[Label, Sequence[int]]],
    *,
    series: Sequence[str],
    title: str,
    format_value: Callable[[int], str] | None = None,
    currency: str | None = None,
) -> Markup:
    """Horizontal bars with their values written at the ends: per group (say a month) its
    name on a line of its own, then one bar for each series with the series' name on its
    left; with a single series, one bar per group under its name. Negative values run left
    of the zero line."""
    if not groups:
        return EMPTY
    fmt = _formatter(format_value, currency)
    values = [v for _, row in groups for v in row]
    top, bottom = max(0, *values), min(0, *values)
    span = (top - bottom) or 1
    single = len(series) == 1
    name_room = 0 if single else min(max(text_width(n) for n in series) + 8, WIDTH * 0.45)
    value_room = max(text_width(fmt(v)) for v in values) + 6
    plot = WIDTH - name_room - value_room
    zero_x = name_room + plot * -bottom / span
    body, y = [], 4
    for label, row in groups:
        body.append(_text(0, y + FONT, _label(label), css="label" if single else "", bold=True))
        y += FONT + 5
        for i, (name, value) in enumerate(zip(series, row, strict=True)):
            length = plot * abs(value) / span
            x = zero_x if value >= 0 else zero_x - length
            text = fmt(value)
            shade = 1 - 0.3 * (i % 3)  # a second cue beside the written names
            tip = f"{_label(label)}: {text}" if single else f"{_label(label)}, {name}: {text}"
            body.append(
                f"<g><title>{escape(tip)}</title>"
                + ("" if single else _text(0, y + _H_BAR - 2, _short(name, name_room - 8),
                                           css="label"))
                + f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(length, 1):.1f}" '
                  f'height="{_H_BAR}" class="bar{" negative" if value < 0 else ""}" '
                  f'style="fill-opacity:{shade:.1f}"/>'
                + _text((x + length if value >= 0 else zero_x) + 4, y + _H_BAR - 2, text,
                        css="value")
                + "</g>")
            y += _H_ROW
        y += 6
    body.insert(0, f'<line x1="{zero_x:.1f}" x2="{zero_x:.1f}" y1="0" y2="{y}" class="axis"/>')
    return _svg(y + 4, title, body)


def paired_bar_chart(
    points: Sequence[tuple[str, int, int]],
    *,
    title: str,
    value_label: str,
    limit_label: str,
    unit: str = "",
) -> Markup:
    """Horizontal bars of a value against its limit (hours committed against capacity): the
    value a filled bar, the limit a dashed outline, both written out, and 'over' where the
    value passes the limit, so nothing depends on colour. Each row's name is written above
    its bars, in full."""
    if not points:
        return EMPTY
    top = max(1, *(max(v, lim) for _, v, lim in points))
    texts = [f"{value} of {limit}{unit}" + (", over" if value > limit else "")
             for _, value, limit in points]
    plot = WIDTH - max(text_width(t) for t in texts) - 6
    legend_y = FONT + 2
    body = [
        f'<rect x="0" y="4" width="14" height="{_H_BAR}" class="bar"/>',
        _text(18, legend_y, value_label, css="label"),
        f'<rect x="0" y="{FONT + 10}" width="14" height="{_H_BAR}" fill="none" '
        f'stroke="currentColor" stroke-dasharray="3 2"/>',
        _text(18, legend_y + FONT + 6, limit_label, css="label"),
    ]
    y = 2 * FONT + 22
    for (label, value, limit), text in zip(points, texts, strict=True):
        value_len, limit_len = plot * value / top, plot * limit / top
        over = value > limit
        body.append(
            f"<g><title>{escape(label)}: {escape(value_label)} {value}{escape(unit)}, "
            f"{escape(limit_label)} {limit}{escape(unit)}{' (over)' if over else ''}</title>"
            + _text(0, y + FONT, _short(label, WIDTH), css="label", bold=True)
            + f'<rect x="0" y="{y + FONT + 4}" width="{max(value_len, 1):.1f}" '
              f'height="{_H_BAR}" class="bar{" negative" if over else ""}"/>'
            + f'<rect x="0" y="{y + FONT + 3}" width="{max(limit_len, 1):.1f}" '
              f'height="{_H_BAR + 2}" fill="none" stroke="currentColor" '
              f'stroke-dasharray="3 2"/>'
            + _text(max(value_len, limit_len) + 4, y + FONT + 2 + _H_BAR, text, css="value")
            + "</g>")
        y += FONT + _H_ROW + 8
    return _svg(y + 4, title, body)
