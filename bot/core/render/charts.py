"""Charts as inline SVG strings for the dashboard: stacked bars, sparklines, share bars (pure, escaped)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

# Colours come from the stylesheet (classes c0..c7), so the markup carries no style and the page's CSP stays strict.
PALETTE_SIZE = 8

# The drawing area of a bar chart, in viewBox units; the SVG scales to its container's width.
WIDTH = 640
WIDE = 1000  # for a chart across the whole page
HEIGHT = 220
MARGIN_LEFT = 62
MARGIN_BOTTOM = 22
MARGIN_TOP = 8
MARGIN_RIGHT = 6


@dataclass(frozen=True, slots=True)
class Series:
    """One named row of values, one value per x position."""

    label: str
    values: Sequence[float]


def colour_class(index: int) -> str:
    """The CSS class of the index-th series (the legend uses the same one)."""
    return f"c{index % PALETTE_SIZE}"


def whole(value: float) -> str:
    return f"{value:,.0f}"


def compact(value: float) -> str:
    """Short enough for an axis: 950, 1.2k, 50k, 3.4M."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            shown = value / limit
            return f"{shown:.1f}".rstrip("0").rstrip(".") + suffix if shown < 10 else f"{shown:.0f}{suffix}"
    return whole(value)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten that is at least value (1 for nothing)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value * (1 - 1e-9):
            return step * power
    return 10 * power


def _f(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _open(title: str, width: int, height: int, css: str) -> list[str]:
    return [
        f'<svg class="{css}" viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMidYMid meet"><title>{escape(title)}</title>'
    ]


def stacked_bars(
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    fmt: Callable[[float], str] = whole,
    label_every: int | None = None,
    width: int = WIDTH,
    axis_fmt: Callable[[float], str] | None = None,
) -> str:
    """Bars per x position, stacked by series; every segment has a tooltip (its <title>)."""
    n = len(x_labels)
    if any(len(s.values) != n for s in series):
        raise ValueError("every series needs one value per x label")
    totals = [sum(max(0.0, float(s.values[i])) for s in series) for i in range(n)]
    top = nice_ceiling(max(totals, default=0.0))
    plot_w = width - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    out = _open(title, width, HEIGHT, "chart bars")
    for fraction in (0.0, 0.5, 1.0):  # grid lines with their values
        y = MARGIN_TOP + plot_h * (1 - fraction)
        out.append(f'<line class="grid" x1="{MARGIN_LEFT}" x2="{width - MARGIN_RIGHT}" y1="{_f(y)}" y2="{_f(y)}"/>')
        out.append(
            f'<text class="axis" x="{MARGIN_LEFT - 4}" y="{_f(y + 4)}" text-anchor="end">{escape((axis_fmt or fmt)(top * fraction))}</text>'
        )
    if n:
        slot = plot_w / n
        bar_w = max(1.0, slot * 0.72)
        every = label_every or max(1, math.ceil(n / 7))
        for i, label in enumerate(x_labels):
            x = MARGIN_LEFT + slot * i + (slot - bar_w) / 2
            y = MARGIN_TOP + plot_h
            for k, s in enumerate(series):
                value = max(0.0, float(s.values[i]))
                if value <= 0:
                    continue
                h = plot_h * value / top
                y -= h
                tip = f"{label} · {s.label}: {fmt(value)}"
                out.append(
                    f'<rect class="{colour_class(k)}" x="{_f(x)}" y="{_f(y)}" width="{_f(bar_w)}" height="{_f(h)}">'
                    f"<title>{escape(tip)}</title></rect>"
                )
            if (n - 1 - i) % every == 0:  # counted back from the last day, which is always labelled
                out.append(
                    f'<text class="axis" x="{_f(x + bar_w / 2)}" y="{HEIGHT - 6}" text-anchor="middle">'
                    f"{escape(label)}</text>"
                )
    out.append("</svg>")
    return "".join(out)


def sparkline(values: Sequence[float], *, title: str, width: int = 120, height: int = 28) -> str:
    """A small line of values over time, its last point marked."""
    out = _open(title, width, height, "chart spark")
    if values:
        top = max(max(values), 1e-9)
        step = (width - 4) / max(1, len(values) - 1)
        points = [(2 + step * i, height - 3 - (height - 6) * max(0.0, v) / top) for i, v in enumerate(values)]
        path = " ".join(f"{_f(x)},{_f(y)}" for x, y in points)
        out.append(f'<polyline class="spark-line" points="{path}"/>')
        x, y = points[-1]
        out.append(f'<circle class="spark-dot" cx="{_f(x)}" cy="{_f(y)}" r="2.5"/>')
    out.append("</svg>")
    return "".join(out)


def share_bar(parts: Sequence[tuple[str, float]], *, title: str, height: int = 24) -> str:
    """One bar split into the parts' shares of their sum; each part's tooltip gives its count and share."""
    total = sum(max(0.0, v) for _, v in parts)
    out = _open(title, WIDTH, height, "chart share")
    if total <= 0:
        out.append(f'<rect class="empty" x="0" y="0" width="{WIDTH}" height="{height}"/>')
    else:
        x = 0.0
        for k, (label, value) in enumerate(parts):
            if value <= 0:
                continue
            w = WIDTH * value / total
            tip = f"{label}: {whole(value)} ({value / total:.0%})"
            out.append(
                f'<rect class="{colour_class(k)}" x="{_f(x)}" y="0" width="{_f(w)}" height="{height}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            x += w
    out.append("</svg>")
    return "".join(out)
