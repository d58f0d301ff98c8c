"""A closed-loop HTTP load generator: `concurrency` workers, each sending its next request as
soon as the previous one is answered, over one aiohttp session with keep-alive.

Closed loop because that is how a webhook sender with a fixed number of connections behaves
(Stripe sends to one endpoint over a bounded set of connections), and because requests/s then
measures the server's capacity at that concurrency rather than the generator's schedule.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp


@dataclass(frozen=True)
class Request:
    body: bytes
    headers: Mapping[str, str]


@dataclass
class LoadResult:
    concurrency: int
    seconds: float
    latencies: list[float]  # seconds, sorted
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return math.nan
        rank = max(math.ceil(q / 100 * len(self.latencies)), 1)
        return self.latencies[rank - 1] * 1000

    @property
    def p50_ms(self) -> float:
        return self.percentile_ms(50)

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)


async def run_load(
    url: str,
    requests: Sequence[Request],
    concurrency: int,
    *,
    timeout: float = 60.0,  # noqa: ASYNC109 - a per-request bound handed to aiohttp
) -> LoadResult:
    """Send every request once, `concurrency` at a time; latency is per request."""
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    pending = iter(requests)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as http:

        async def worker() -> None:
            for request in pending:
                started = time.perf_counter()
                try:
                    async with http.post(url, data=request.body, headers=request.headers) as r:
                        await r.read()
                        statuses[r.status] += 1
                except (aiohttp.ClientError, TimeoutError):
                    statuses[0] += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    latencies.sort()
    return LoadResult(concurrency, seconds, latencies, statuses)


def signed(
    bodies: Sequence[bytes], sign: Callable[[bytes], str], extra: Mapping[str, str] | None = None
) -> list[Request]:
    """Stripe-style requests: the body and its `Stripe-Signature` made just now (signatures
    carry a timestamp the shop accepts for 300 s, so sign right before firing)."""
    base = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        **(extra or {}),
    }
    return [Request(body, {**base, "Stripe-Signature": sign(body)}) for body in bodies]
