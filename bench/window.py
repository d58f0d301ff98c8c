"""Scenario 6 — the Buy-tap window at 1 k, 10 k and 40 k buyers active within one minute.

Every Buy tap asks `RateWindow.allow` first, on the event loop. The window is filled with N
buyers who each tapped once during the last minute (a simulated clock spreads them over it),
then another N taps — half from buyers already in the window, half from new ones, the clock
moving on so the oldest are forgotten as the minute slides — are timed in CPU seconds. The goal
is a constant cost per tap: the 40 k figure over the 1 k one, measured in the same run.
"""

from __future__ import annotations

import time

from bench.report import Report
from shop.context import BUY_TAPS_PER_MINUTE, RateWindow

SIZES = (1_000, 10_000, 40_000)
QUICK_SIZES = (1_000, 10_000, 20_000)
WINDOW_SECONDS = 60.0
GOAL_RATIO = 2.0
SCENARIO = "6 buy window"


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def cost_per_tap(active: int, repeats: int = 3) -> float:
    """Median CPU seconds per `allow` with `active` buyers in the window."""
    samples = []
    for _ in range(repeats):
        clock = _Clock()
        window = RateWindow(BUY_TAPS_PER_MINUTE, WINDOW_SECONDS, clock=clock)
        step = WINDOW_SECONDS / active
        for buyer in range(active):
            window.allow(buyer)
            clock.now += step
        began = time.process_time()
        for tap in range(active):
            window.allow(tap // 2 if tap % 2 else active + tap)
            clock.now += step
        samples.append((time.process_time() - began) / active)
        assert len(window) <= 2 * active  # only the last minute's buyers are remembered
    return sorted(samples)[len(samples) // 2]


def run(report: Report, *, quick: bool) -> None:
    sizes = QUICK_SIZES if quick else SIZES
    costs = [cost_per_tap(size) for size in sizes]
    ratio = costs[-1] / costs[0]
    report.add(
        SCENARIO,
        "CPU per Buy tap at " + " · ".join(f"{size // 1000} k" for size in sizes) + " buyers/min",
        " · ".join(f"{cost * 1e6:.2f} µs" for cost in costs),
    )
    report.add(
        SCENARIO,
        f"cost per tap: {sizes[-1] // 1000} k / {sizes[0] // 1000} k active buyers",
        f"{ratio:.2f}×",
        f"≤ {GOAL_RATIO:.0f}×",
        ratio <= GOAL_RATIO,
    )
