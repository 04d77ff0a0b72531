"""Small server-drawn SVG charts for the dashboard: no JavaScript, no CDN.

Every label goes through format_html, so a brand or reason code cannot inject markup.
Charts scale with their viewBox; the page's CSS decides the rendered width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

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
        label = bar.label if i % label_every == 0 else ""
        shapes.append(
            (
                f"{x:.1f}",
                f"{plot_height - height:.1f}",
                f"{width:.1f}",
                f"{height:.1f}",
                bar.title or f"{bar.label}: {bar.value:g}",
                f"{x + width / 2:.1f}",
                HEIGHT - 6,
                label,
            )
        )
    body = format_html_join(
        "",
        '<g class="bar"><rect x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>'
        '<text x="{}" y="{}" text-anchor="middle">{}</text></g>',
        shapes,
    )
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
