"""Server-side SVG charts: no script, no CDN, readable without colour (values are written
on the bars), and each chart comes with its table one click away."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from collective.money import format_plain


def bar_chart(
    points: Sequence[tuple[str, int]],
    *,
    title: str,
    format_value: Callable[[int], str] | None = None,
    currency: str | None = None,
    height: int = 180,
    bar_width: int = 44,
) -> Markup:
    """A vertical bar chart as inline SVG; negative values hang below the axis."""
    if format_value is None:
        format_value = (lambda v: format_plain(v, currency)) if currency else str
    if not points:
        return Markup('<p class="muted">Nothing to show yet.</p>')
    top = max(0, *(v for _, v in points))
    bottom = min(0, *(v for _, v in points))
    span = (top - bottom) or 1
    label_room, value_room, gap = 34, 18, 12
    plot = height - label_room - value_room
    zero_y = value_room + plot * top / span
    width = len(points) * (bar_width + gap) + gap
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet" '
        f'style="max-width:{width}px">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" x2="{width}" y1="{zero_y:.1f}" y2="{zero_y:.1f}" class="axis"/>',
    ]
    for i, (label, value) in enumerate(points):
        x = gap + i * (bar_width + gap)
        bar = plot * abs(value) / span
        y = zero_y - bar if value >= 0 else zero_y
        text = escape(format_value(value))
        parts.append(
            f'<g><title>{escape(label)}: {text}</title>'
            f'<rect x="{x}" y="{y:.1f}" width="{bar_width}" height="{max(bar, 1):.1f}" '
            f'class="bar{" negative" if value < 0 else ""}"/>'
            f'<text x="{x + bar_width / 2}" y="{(y - 4) if value >= 0 else (y + bar + 12):.1f}" '
            f'class="value">{text}</text>'
            f'<text x="{x + bar_width / 2}" y="{height - 12}" class="label">{escape(label)}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


#: Horizontal charts: a fixed drawing width that a phone shows at about 1:1 (text stays
#: readable), allowed to grow a little on wide screens.
_H_WIDTH = 360
_H_LABEL = 110  # room for the row labels on the left
_H_ROW = 20
_H_BAR = 13
_H_FONT = 11  # a little larger than the vertical charts': these are not scaled down


def _formatter(format_value: Callable[[int], str] | None, currency: str | None
               ) -> Callable[[int], str]:
    if format_value is not None:
        return format_value
    return (lambda v: format_plain(v, currency)) if currency else str


def _short(label: str, limit: int = 17) -> str:
    """A row label that fits its column; the full text stays in the row's tooltip."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _h_svg(height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {_H_WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet" '
        f'style="max-width:{_H_WIDTH * 3 // 2}px"><title>{escape(title)}</title>'
        + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "start", css: str = "",
          bold: bool = False) -> str:
    weight = "font-weight:600;" if bold else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" class="{css}" '
            f'style="font-size:{_H_FONT}px;text-anchor:{anchor};{weight}">{escape(text)}</text>')


def grouped_bar_chart(
    groups: Sequence[tuple[str, Sequence[int]]],
    *,
    series: Sequence[str],
    title: str,
    format_value: Callable[[int], str] | None = None,
    currency: str | None = None,
) -> Markup:
    """Horizontal bars with their values written at the ends: per group (say a month) one
    bar for each series, the series' name written beside it; with a single series, one row
    per group. Negative values run left of the zero line."""
    if not groups:
        return Markup('<p class="muted">Nothing to show yet.</p>')
    fmt = _formatter(format_value, currency)
    values = [v for _, row in groups for v in row]
    top, bottom = max(0, *values), min(0, *values)
    span = (top - bottom) or 1
    value_room = 86
    plot = _H_WIDTH - _H_LABEL - value_room
    zero_x = _H_LABEL + plot * -bottom / span
    single = len(series) == 1
    body, y = [], 4
    for label, row in groups:
        if not single:
            body.append(_text(0, y + 12, label, bold=True))
            y += 18
        for i, (name, value) in enumerate(zip(series, row, strict=True)):
            length = plot * abs(value) / span
            x = zero_x if value >= 0 else zero_x - length
            text = fmt(value)
            shade = 1 - 0.3 * (i % 3)  # a second cue beside the written names
            tip = f"{label}: {text}" if single else f"{label}, {name}: {text}"
            body.append(
                f"<g><title>{escape(tip)}</title>"
                + _text(0 if single else 10, y + _H_BAR - 2, _short(label if single else name),
                        css="label")
                + f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(length, 1):.1f}" '
                  f'height="{_H_BAR}" class="bar{" negative" if value < 0 else ""}" '
                  f'style="fill-opacity:{shade:.1f}"/>'
                + _text((x + length if value >= 0 else zero_x) + 4, y + _H_BAR - 2, text,
                        css="value")
                + "</g>")
            y += _H_ROW
        y += 0 if single else 6
    body.insert(0, f'<line x1="{zero_x:.1f}" x2="{zero_x:.1f}" y1="0" y2="{y}" class="axis"/>')
    return _h_svg(y + 4, title, body)


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
    value passes the limit, so nothing depends on colour."""
    if not points:
        return Markup('<p class="muted">Nothing to show yet.</p>')
    top = max(1, *(max(v, lim) for _, v, lim in points))
    value_room = 100
    plot = _H_WIDTH - _H_LABEL - value_room
    body = [
        f'<rect x="0" y="4" width="14" height="{_H_BAR}" class="bar"/>',
        _text(18, 14, value_label, css="label"),
        f'<rect x="{_H_WIDTH / 2:.0f}" y="4" width="14" height="{_H_BAR}" fill="none" '
        f'stroke="currentColor" stroke-dasharray="3 2"/>',
        _text(_H_WIDTH / 2 + 18, 14, limit_label, css="label"),
    ]
    y = 28
    for label, value, limit in points:
        value_len, limit_len = plot * value / top, plot * limit / top
        over = value > limit
        text = f"{value} of {limit}{unit}" + (", over" if over else "")
        body.append(
            f"<g><title>{escape(label)}: {escape(value_label)} {value}{escape(unit)}, "
            f"{escape(limit_label)} {limit}{escape(unit)}{' (over)' if over else ''}</title>"
            + _text(0, y + _H_BAR - 2, _short(label), css="label")
            + f'<rect x="{_H_LABEL}" y="{y}" width="{max(value_len, 1):.1f}" '
              f'height="{_H_BAR}" class="bar{" negative" if over else ""}"/>'
            + f'<rect x="{_H_LABEL}" y="{y - 1}" width="{max(limit_len, 1):.1f}" '
              f'height="{_H_BAR + 2}" fill="none" stroke="currentColor" '
              f'stroke-dasharray="3 2"/>'
            + _text(_H_LABEL + max(value_len, limit_len) + 4, y + _H_BAR - 2, text, css="value")
            + "</g>")
        y += _H_ROW
    body.insert(0, f'<line x1="{_H_LABEL}" x2="{_H_LABEL}" y1="24" y2="{y}" class="axis"/>')
    return _h_svg(y + 4, title, body)
