"""Server-drawn charts: one bar per value, scaled to the largest, labels escaped."""

from __future__ import annotations

from insights.svg import Bar, bar_chart, histogram


def test_a_bar_chart_draws_one_bar_per_value_scaled_to_the_largest():
    svg = bar_chart([Bar("a", 1), Bar("b", 4)], name="demo")

    assert svg.startswith('<svg class="chart" data-chart="demo" viewBox="0 0 600 200"')
    assert svg.count('<g class="bar">') == 2
    # The plot is 176 high: the largest bar fills it, a quarter of it is 44.
    assert 'height="176.0"' in svg
    assert 'height="44.0"' in svg


def test_labels_and_titles_are_escaped():
    svg = histogram([Bar("<script>", 1, title='"x" & <y>')], name="a<b")

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "&quot;x&quot; &amp; &lt;y&gt;" in svg
    assert 'data-chart="a&lt;b"' in svg


def test_an_empty_series_draws_an_empty_frame():
    svg = bar_chart([], name="none")

    assert '<g class="bar">' not in svg
    assert svg.endswith("</svg>")
