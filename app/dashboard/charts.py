"""Tiny server-side charts (inline SVG): no JavaScript, no external requests."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True, slots=True)
class Point:
    label: str
    value: float | None
    count: int


def nps_trend(points: list[Point], width: int = 640, height: int = 180) -> Markup:
    """Bars from the zero line up (positive NPS) or down (negative), one per period, with the
    value and the number of responses in each bar's accessible title."""
    if not points:
        return Markup("")
    pad_x, pad_y = 8, 18
    inner_h = height - 2 * pad_y
    slot = (width - 2 * pad_x) / len(points)
    zero = pad_y + inner_h / 2
    parts = [
        f'<svg role="img" aria-label="NPS by period" viewBox="0 0 {width} {height}" '
        f'width="100%" height="{height}" preserveAspectRatio="none" class="trend">',
        f'<line x1="{pad_x}" y1="{zero}" x2="{width - pad_x}" y2="{zero}" class="axis"/>',
    ]
    for i, point in enumerate(points):
        x = pad_x + i * slot + slot * 0.15
        w = slot * 0.7
        title = escape(f"{point.label}: NPS {_fmt(point.value)} ({point.count} responses)")
        if point.value is None:
            parts.append(
                f'<g><title>{title}</title><rect x="{x:.1f}" y="{zero - 1:.1f}" '
                f'width="{w:.1f}" height="2" class="none"/></g>'
            )
        else:
            h = abs(point.value) / 100 * (inner_h / 2)
            y = zero - h if point.value >= 0 else zero
            kind = "pos" if point.value >= 0 else "neg"
            parts.append(
                f'<g><title>{title}</title><rect x="{x:.1f}" y="{y:.1f}" '
                f'width="{w:.1f}" height="{max(h, 1):.1f}" class="{kind}"/></g>'
            )
        if len(points) <= 16:
            parts.append(
                f'<text x="{x + w / 2:.1f}" y="{height - 3}" text-anchor="middle" '
                f'class="tick">{escape(point.label[-5:])}</text>'
            )
    parts.append("</svg>")
    # Only numbers and escape()d labels were interpolated above.
    return Markup("".join(parts))  # noqa: S704


def _fmt(value: float | None) -> str:
    return "no answers" if value is None else f"{value:+.0f}"
