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
