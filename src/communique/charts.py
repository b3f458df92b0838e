"""Bar charts drawn at build time as inline SVG: no script, a title and a description for
assistive technology, and the numbers as a table beside the picture."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

BAR = 24
"""Width of one bar, in SVG units."""
GAP = 6
"""Space between bars."""
HEIGHT = 160
"""Height of the tallest bar."""
MARGIN = 24
"""Room above the bars (for their counts) and below (for the years)."""


def bar_chart(counts: Sequence[tuple[int, int]], title: str, description: str, chart_id: str) -> Markup:
    """An SVG bar chart of (year, count) pairs, oldest first; labels every fifth year when crowded."""
    if not counts:
        return Markup("")
    tallest = max(count for _, count in counts) or 1
    width = len(counts) * (BAR + GAP) + GAP
    label_every = 1 if len(counts) <= 12 else 5
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {HEIGHT + 2 * MARGIN}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        f'<line class="chart__axis" x1="0" y1="{HEIGHT + MARGIN}" x2="{width}" y2="{HEIGHT + MARGIN}"/>',
    ]
    for n, (year, count) in enumerate(counts):
        x = GAP + n * (BAR + GAP)
        height = round(HEIGHT * count / tallest)
        top = MARGIN + HEIGHT - height
        middle = x + BAR / 2
        if count:
            parts.append(f'<rect class="chart__bar" x="{x}" y="{top}" width="{BAR}" height="{height}"/>')
            parts.append(f'<text class="chart__count" x="{middle}" y="{top - 4}">{count}</text>')
        if n % label_every == 0 or n == len(counts) - 1:
            parts.append(f'<text class="chart__year" x="{middle}" y="{HEIGHT + 2 * MARGIN - 6}">'
                         f"{year}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))
