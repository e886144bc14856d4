"""Bar charts drawn on the server as SVG: no chart library, no CDN, nothing for the CSP to allow.

A counter PC sits on a closed network, and the page's Content-Security-Policy allows no inline
script or style: the SVG uses presentation attributes and classes of app.css only. Each chart
is an image to assistive technology (``role="img"`` with its ``<title>`` and ``<desc>``), and
the table under it on the page holds the same figures. Every bar is a ``<rect
class="mark" data-label=… data-value=…>`` so that a test (and a curious supervisor's browser)
reads the drawn values back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

_ids = count(1)

WIDTH = 720
HEIGHT = 240
MARGIN_LEFT = 56
MARGIN_BOTTOM = 56
MARGIN_TOP = 16


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str = ""  # the list behind the bar, when there is one


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str  # 件, 円, 時間 …
    bars: list[Bar] = field(default_factory=list)
    note: str = ""  # said under the chart when there is nothing to draw, or why


def _nice_ceiling(value: float) -> float:
    """A round top for the axis: 1, 2, 5 × 10ⁿ at or above ``value``."""
    if value <= 0:
        return 1
    magnitude = 1.0
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return f"{value:,.1f}" if value != int(value) else f"{int(value):,}"


def _f(value: float) -> str:
    return f"{value:.1f}"


def render_svg(chart: Chart) -> SafeString:
    """The chart as an inline SVG element."""
    ident = f"chart-{next(_ids)}"
    top = _nice_ceiling(max((bar.value for bar in chart.bars), default=0))
    plot_w = WIDTH - MARGIN_LEFT - 8
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    n = max(len(chart.bars), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1)
    summary = "、".join(f"{bar.label} {_number(bar.value)}{chart.unit}" for bar in chart.bars)
    parts = [
        format_html(
            '<svg class="chart" role="img" viewBox="0 0 {} {}" width="100%" '
            'aria-labelledby="{}-t {}-d" data-chart="{}">'
            '<title id="{}-t">{}</title><desc id="{}-d">{}</desc>',
            WIDTH,
            HEIGHT,
            ident,
            ident,
            chart.title,
            ident,
            chart.title,
            ident,
            summary or chart.note or "データがありません",
        )
    ]
    # The axis with three gridlines (0, half, top).
    for fraction in (0, 0.5, 1):
        y = MARGIN_TOP + plot_h * (1 - fraction)
        parts.append(
            format_html(
                '<line class="grid" x1="{}" y1="{}" x2="{}" y2="{}"/>'
                '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
                MARGIN_LEFT,
                _f(y),
                WIDTH - 8,
                _f(y),
                MARGIN_LEFT - 6,
                _f(y + 4),
                _number(top * fraction),
            )
        )
    label_every = max(1, -(-n // 24))  # at most 24 labels under the bars
    for index, bar in enumerate(chart.bars):
        height = plot_h * (bar.value / top) if top else 0
        x = MARGIN_LEFT + slot * index + (slot - bar_w) / 2
        y = MARGIN_TOP + plot_h - height
        rect = format_html(
            '<rect class="mark" x="{}" y="{}" width="{}" height="{}" '
            'data-label="{}" data-value="{}"><title>{} {}{}</title></rect>',
            _f(x),
            _f(y),
            _f(bar_w),
            _f(height),
            bar.label,
            _number(bar.value).replace(",", ""),
            bar.label,
            _number(bar.value),
            chart.unit,
        )
        if bar.href:
            rect = format_html('<a href="{}">{}</a>', bar.href, rect)
        parts.append(rect)
        if index % label_every == 0:
            lx = x + bar_w / 2
            ly = HEIGHT - MARGIN_BOTTOM + 14
            parts.append(
                format_html(
                    '<text class="label" x="{}" y="{}" text-anchor="end" '
                    'transform="rotate(-35 {} {})">{}</text>',
                    _f(lx),
                    ly,
                    _f(lx),
                    ly,
                    bar.label,
                )
            )
    parts.append(mark_safe("</svg>"))
    return mark_safe("".join(str(part) for part in parts))  # noqa: S308 - every part escaped
