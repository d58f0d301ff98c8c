"""A stop that ends within the process manager's patience, and says what held it up.

After SIGTERM, Docker waits 10 s before it kills (Kubernetes and Heroku 30 s). A stop that
waits on something that does not come — Telegram or Stripe not answering a call in flight (15
and 30 s timeouts), a handler stuck behind one — would be killed there anyway, with nothing in
the log to say why. So the stop has a deadline: each step gets what is left of it, and a step
still running at the deadline is cut short and named in the log. Cutting it short loses
nothing: everything the shop does survives a kill (claims and leases expire, an update or event
not yet answered is sent again), and a cut-short step is no worse than one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 8.0  # the whole stop, inside Docker's 10 s
LAST_STEP_SECONDS = 1.0  # what a step still gets once the deadline has passed (closing up)
SLOW_STEP_SECONDS = 2.0  # a step that took this long is named even though it finished


class Shutdown:
    """The steps of one stop, run one after another against one deadline."""

    def __init__(self) -> None:
        self._deadline = time.monotonic() + STOP_GRACE_SECONDS

    async def step(self, name: str, stopping: Awaitable[None]) -> None:
        """Await `stopping` until the deadline (at least LAST_STEP_SECONDS); cancelled and
        logged past it, logged when slow."""
        started = time.monotonic()
        budget = max(self._deadline - started, LAST_STEP_SECONDS)
        scope = asyncio.timeout(budget)
        try:
            async with scope:
                await stopping
        except TimeoutError:
            if not scope.expired():
                raise  # the step's own timeout, not the stop's
            log.warning(
                "stopping: %s did not finish within %.1f s; cut short (what it was doing is "
                "picked up again, as after a crash)",
                name,
                budget,
            )
            return
        took = time.monotonic() - started
        if took >= SLOW_STEP_SECONDS:
            log.warning("stopping: %s took %.1f s", name, took)
