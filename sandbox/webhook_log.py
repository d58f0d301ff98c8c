"""Every webhook the Stripe stand-in sent to the bot: the event, the bot's answer, the time.

The events panel shows this list, and "Resend" posts the very same event (same id, fresh
signature) again, the way Stripe retries, so a merchant can watch the bot answer 200 without
delivering twice. It also sends the webhooks Stripe sends on its own after API calls the bot
makes: `charge.refunded` after a refund (the stand-in itself sends `checkout.session.expired`
after an expire, through `send`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from sandbox.fake_stripe import FakeRequest, FakeStripe
from sandbox.pulse import Pulse

log = logging.getLogger(__name__)

MAX_ANSWER_CHARS = 500


@dataclass(frozen=True)
class Delivery:
    number: int
    event: dict[str, Any]
    status: int | None  # None: the bot did not answer at all
    answer: str
    milliseconds: int
    sent_at: float
    resend_of: int | None = None

    @property
    def event_id(self) -> str:
        return str(self.event["id"])

    @property
    def event_type(self) -> str:
        return str(self.event["type"])

    @property
    def object_id(self) -> str:
        return str(self.event["data"]["object"].get("id", ""))


class WebhookLog:
    def __init__(self, stripe: FakeStripe) -> None:
        self._stripe = stripe
        self._deliveries: list[Delivery] = []
        self._background: set[asyncio.Task[Delivery]] = set()
        self.changed = Pulse()

    def deliveries(self) -> list[Delivery]:
        return list(self._deliveries)

    async def send(self, event: dict[str, Any], *, resend_of: int | None = None) -> Delivery:
        """POST the signed event to the bot's /stripe/webhook and record how it answered."""
        sent_at, started = time.time(), time.monotonic()
        try:
            status: int | None
            status, answer = await self._stripe.deliver(event)
        except (aiohttp.ClientError, TimeoutError) as error:
            status, answer = None, f"no answer: {type(error).__name__}: {error}"
        delivery = Delivery(
            number=len(self._deliveries) + 1,
            event=event,
            status=status,
            answer=answer[:MAX_ANSWER_CHARS],
            milliseconds=round((time.monotonic() - started) * 1000),
            sent_at=sent_at,
            resend_of=resend_of,
        )
        self._deliveries.append(delivery)
        log.info(
            "sandbox: sent %s %s → %s in %d ms",
            delivery.event_type,
            delivery.event_id,
            status,
            delivery.milliseconds,
        )
        self.changed.fire()
        return delivery

    async def resend(self, number: int) -> Delivery:
        """Deliver delivery `number`'s event again; KeyError when there is no such delivery."""
        if not 1 <= number <= len(self._deliveries):
            raise KeyError(number)
        original = self._deliveries[number - 1]
        return await self.send(original.event, resend_of=original.resend_of or number)

    def after_request(self, record: FakeRequest, answer: dict[str, Any]) -> None:
        """FakeStripe's hook: send what Stripe sends after the bot's own API calls."""
        if record.method != "POST" or record.status != 200 or record.replayed:
            return
        event: dict[str, Any] | None = None
        try:
            if record.path == "/v1/refunds":
                event = self._stripe.refund_event(str(answer["payment_intent"]))
        except (KeyError, ValueError):  # never let the sandbox's extra break the API answer
            log.exception("sandbox: no webhook for %s %s", record.method, record.path)
        if event is not None:
            # After the API answer has gone out, as Stripe does: the bot sees both, any order.
            task = asyncio.get_running_loop().create_task(self.send(event))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
