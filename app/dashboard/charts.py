"""What the dashboard's charts draw, as plain data: the page passes it to Chart.js (vendored in
``app/static/workspace``) in a JSON script tag, and ``charts.js`` draws it with axes and value
labels. The share of promoters, passives and detractors is a small SVG (no inline style)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup


@dataclass(frozen=True, slots=True)
class Point:
    label: str
    value: float | None
    count: int


def nps_trend(points: list[Point], title: str = "NPS by month") -> dict[str, Any]:
    """A bar per period: NPS on a fixed -100..100 axis, the response count in the tooltip."""
    return {
        "kind": "nps_bars",
        "title": title,
        "labels": [p.label for p in points],
        "values": [None if p.value is None else round(p.value) for p in points],
        "counts": [p.count for p in points],
    }


def split_bar(promoters: int, passives: int, detractors: int) -> Markup:
    """A thin bar split in the three categories' shares (decorative: the numbers are in text)."""
    total = promoters + passives + detractors
    parts = []
    x = 0.0
    for count, kind in ((promoters, "p"), (passives, "n"), (detractors, "d")):
        width = 100 * count / total if total else 0
        if width:
            parts.append(f'<rect x="{x:.2f}" y="0" width="{width:.2f}" height="1" class="{kind}"/>')
        x += width
    # Only numbers were interpolated.
    return Markup(  # noqa: S704
        '<svg class="split" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true" '
        f'focusable="false">{"".join(parts)}</svg>'
    )
