"""What the flash-sale scenarios share: the stand-ins' limits and how figures are summarised."""

from __future__ import annotations

import math

STRIPE_CREATES_PER_SECOND = 25
TELEGRAM_MESSAGES_PER_SECOND = 30
TELEGRAM_PER_CHAT = (3, 3.0)  # messages, seconds: about 1/s per chat, short bursts allowed


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(math.ceil(q / 100 * len(ordered)), 1) - 1]


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def timeline(
    t0: float,
    t_end: float,
    columns: dict[str, list[float]],
    *,
    step: float = 5.0,
    rows: int = 30,
) -> list[str]:
    """A markdown table of how many of each column's events fell in each `step` seconds from
    `t0`; after `rows` buckets, one last row sums the rest."""
    names = list(columns)
    lines = [
        "| seconds | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    buckets = max(math.ceil((t_end - t0) / step), 1)
    for i in range(min(buckets, rows)):
        lo, hi = t0 + i * step, t0 + (i + 1) * step
        if i == rows - 1 and buckets > rows:
            hi = t_end + 1
        counts = [sum(1 for t in columns[name] if lo <= t < hi) for name in names]
        label = f"{i * step:g}–{(i + 1) * step:g}" if hi <= t_end else f"{i * step:g}–end"
        lines.append(f"| {label} | " + " | ".join(str(c) for c in counts) + " |")
    return lines
