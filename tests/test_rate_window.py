"""The Buy-tap window: a limit per buyer over a sliding minute, remembering only active buyers."""

from __future__ import annotations

from shop.context import RateWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_key_over_a_sliding_window() -> None:
    clock = Clock()
    window = RateWindow(3, 60, clock=clock)
    assert [window.allow(1) for _ in range(4)] == [True, True, True, False]
    assert window.allow(2)  # another buyer has a window of their own
    clock.now += 30
    assert not window.allow(1)  # refused taps do not count, but the first three still do
    clock.now += 30  # the first three taps are exactly 60 s old: out of the window
    assert [window.allow(1) for _ in range(4)] == [True, True, True, False]


def test_slides_tap_by_tap() -> None:
    clock = Clock()
    window = RateWindow(2, 10, clock=clock)
    assert window.allow(7)
    clock.now += 6
    assert window.allow(7)
    clock.now += 5  # the first tap left the window, the second has not
    assert window.allow(7)
    assert not window.allow(7)


def test_forgets_buyers_idle_for_a_whole_window() -> None:
    clock = Clock()
    window = RateWindow(10, 60, clock=clock)
    for buyer in range(500):
        window.allow(buyer)
        clock.now += 0.1
    assert len(window) == 500
    clock.now += 5  # 55 s after the first tap
    window.allow(10_000)
    assert len(window) == 501  # everyone tapped within the minute
    clock.now += 20  # buyers 0..~150 tapped more than a minute ago
    window.allow(10_001)
    assert 340 < len(window) < 360
    assert window.allow(0)  # a forgotten buyer starts afresh
    clock.now += 61
    window.allow(10_002)
    assert len(window) == 1


def test_a_refused_buyer_stays_refused_while_others_come_and_go() -> None:
    clock = Clock()
    window = RateWindow(1, 60, clock=clock)
    assert window.allow(1)
    for buyer in range(2, 200):
        clock.now += 0.2
        assert window.allow(buyer)
        assert not window.allow(1) or clock.now - 1000.0 >= 60
