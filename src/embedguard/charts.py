"""Month-by-month bar charts as plain geometry; a template draws them as inline SVG.

No JavaScript and no library: twelve groups of two bars are a few rectangles, and the
numbers stand in a table beside the chart anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .evaluation import Counts

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 12, 28
SERIES = ("views", "loads")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    value: int


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    month_x: tuple[float, ...]  # centre of each month's group, for its label
    left: int
    right: float
    peak: int | None  # index of the month with the most views, None without views


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least ``value`` (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def monthly(months: Sequence[Counts]) -> Chart:
    values = [(m.views, m.loads) for m in months]
    top = nice_ceiling(max((v for pair in values for v in pair), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / max(len(months), 1)
    bar_w = group * 0.36
    bars: list[Bar] = []
    for index, pair in enumerate(values):
        for offset, (series, value) in enumerate(zip(SERIES, pair, strict=True)):
            height = plot_h * value / top
            x = LEFT + index * group + group * 0.12 + offset * bar_w
            y = TOP + plot_h - height
            bars.append(
                Bar(round(x, 1), round(y, 1), round(bar_w, 1), round(height, 1), series, value)
            )
    marks = (0, top // 2, top) if top % 2 == 0 else (0, top)
    ticks = tuple(Tick(round(TOP + plot_h * (1 - v / top), 1), v) for v in marks)
    views = [v for v, _ in values]
    peak = views.index(max(views)) if any(views) else None
    return Chart(
        WIDTH,
        HEIGHT,
        tuple(bars),
        ticks,
        tuple(round(LEFT + (i + 0.5) * group, 1) for i in range(len(months))),
        LEFT,
        WIDTH - RIGHT,
        peak,
    )
