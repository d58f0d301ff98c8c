"""Fixtures: a fresh Stripe stand-in on loopback and the real stripe SDK pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import stripe

from sandbox.fake_stripe import FakeStripe
from tests.stripe_standin.sdk import sdk_client


@pytest.fixture
async def fake() -> AsyncIterator[FakeStripe]:
    async with FakeStripe() as fake:
        yield fake


@pytest.fixture
async def client(fake: FakeStripe) -> AsyncIterator[stripe.StripeClient]:
    async with sdk_client(fake) as client:
        yield client
