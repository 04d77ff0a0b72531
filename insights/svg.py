"""Small server-drawn SVG charts for the dashboard: no JavaScript, no CDN.

Every label and title is escaped, so a brand or reason code cannot inject markup (the
numbers are formatted here; a 122-day range draws about 500 bars, so no format_html per bar).
Charts scale with their viewBox; the page's CSS decides the rendered width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 600
HEIGHT = 200
LABEL_SPACE = 24  # below the bars, for the category labels


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    title: str = ""  # hover text; the label and value when blank


def bar_chart(bars: Sequence[Bar], *, name: str, gap: float = 0.2) -> SafeString:
    """Vertical bars scaled to the largest value; `gap` is the share of each slot left empty.

    A histogram is the same chart with gap=0. An empty series draws an empty frame.
    """
    plot_height = HEIGHT - LABEL_SPACE
    top = max((bar.value for bar in bars), default=0) or 1
    slot = WIDTH / max(len(bars), 1)
    width = slot * (1 - gap)
    # Only a few labels fit under many bars (24 hourly bars in a day, 720 in 30 days).
    label_every = max(1, len(bars) // 12)
    shapes = []
    for i, bar in enumerate(bars):
        height = plot_height * bar.value / top
        x = i * slot + (slot - width) / 2
        label = escape(bar.label) if i % label_every == 0 else ""
        title = escape(bar.title or f"{bar.label}: {bar.value:g}")
        shapes.append(
            f'<g class="bar"><rect x="{x:.1f}" y="{plot_height - height:.1f}" width="{width:.1f}" '
            f'height="{height:.1f}"><title>{title}</title></rect>'
            f'<text x="{x + width / 2:.1f}" y="{HEIGHT - 6}" text-anchor="middle">{label}</text></g>'
        )
    body = mark_safe("".join(shapes))  # noqa: S308 - every text in it is escaped above
    return format_html(
        '<svg class="chart" data-chart="{}" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        '<line class="axis" x1="0" y1="{}" x2="{}" y2="{}"></line>{}</svg>',
        name,
        WIDTH,
        HEIGHT,
        name,
        plot_height,
        WIDTH,
        plot_height,
        body,
    )


def histogram(bars: Sequence[Bar], *, name: str) -> SafeString:
    return bar_chart(bars, name=name, gap=0.0)
