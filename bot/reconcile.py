"""The reconciliation's schedule: the chat application's job queue runs `shop.reconcile`.

The use-cases live in `shop/reconcile.py`; this module only decides when they run. Every
instance sharing the database has the same timers; each pass first takes its lease for one
period (shop/leases.py), so it runs once per period across all of them, and another instance
carries on within a period when the one running it stops.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.context import ShopApplication, ShopContext
from shop import leases
from shop.reconcile import catch_up_payments, reconcile, recover_star_payments

log = logging.getLogger(__name__)

# Module constants so tests (and the sandbox) can shorten them before the app starts.
FIRST_RUN_SECONDS = 5.0  # after start: the webhooks missed while we were down
INTERVAL_SECONDS = 5 * 60.0
RECENT_INTERVAL_SECONDS = 30.0  # the cheap pass over recently completed sessions
STARS_INTERVAL_SECONDS = 60.0  # lost Stars payments: one getStarTransactions call a minute


def schedule(application: ShopApplication) -> None:
    """Run `reconcile` shortly after start and then every INTERVAL_SECONDS, the cheap
    `catch_up_payments` every RECENT_INTERVAL_SECONDS, and the search for lost Stars payments
    (`recover_star_payments`) shortly after start and then every STARS_INTERVAL_SECONDS:
    never two of a kind at once, and the
    first runs however long the rest of the start took (no misfire grace; `first` is counted
    from this call). The jobs get the shop as `context.shop`."""
    if application.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without its job-queue extra")
    once: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    application.job_queue.run_repeating(
        _job, interval=INTERVAL_SECONDS, first=FIRST_RUN_SECONDS, name="reconcile", job_kwargs=once
    )
    application.job_queue.run_repeating(
        _recent_job,
        interval=RECENT_INTERVAL_SECONDS,
        first=RECENT_INTERVAL_SECONDS,
        name="reconcile_recent",
        job_kwargs=once,
    )
    application.job_queue.run_repeating(
        _stars_job,
        interval=STARS_INTERVAL_SECONDS,
        first=FIRST_RUN_SECONDS,
        name="reconcile_stars",
        job_kwargs=once,
    )


async def _job(context: ShopContext) -> None:
    try:
        if await leases.take(context.shop, "reconcile", INTERVAL_SECONDS):
            await reconcile(context.shop)
    except Exception:  # a database hiccup must not stop the schedule; the next run retries
        log.exception("reconciliation run failed")


async def _recent_job(context: ShopContext) -> None:
    try:
        if await leases.take(context.shop, "reconcile.recent", RECENT_INTERVAL_SECONDS):
            await catch_up_payments(context.shop)
    except Exception:  # as above: the next pass retries
        log.exception("reconciliation of recent payments failed")


async def _stars_job(context: ShopContext) -> None:
    try:
        if await leases.take(context.shop, "reconcile.stars", STARS_INTERVAL_SECONDS):
            await recover_star_payments(context.shop)
    except Exception:  # as above: the next run reads on from the stored offset
        log.exception("reconciliation of Stars payments failed")
