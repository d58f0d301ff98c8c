"""The stand-ins and the shop transcribe the same facts about Stripe and Telegram: they agree.

Each side keeps its own copy on purpose (the stand-in is there to catch the shop believing
something Stripe or Telegram does not do), so a fact that changes on one side only fails here
instead of turning into a story that passes against the stand-in and fails against the service.
"""

from __future__ import annotations

import pytest
import stripe

from bot import callbacks, texts
from bot.config import ConfigError, load_settings
from sandbox import fake_stripe, fake_telegram
from shop import checkout, money
from tests.config_env import REQUIRED
from tests.stripe_standin.sdk import create, sdk_client, shop_params


def test_the_same_currencies_are_chargeable() -> None:
    assert fake_stripe.CURRENCIES == money.SUPPORTED_CURRENCIES
    assert {"bhd", "jod", "kwd", "omr", "tnd"} <= fake_stripe.CURRENCIES


@pytest.mark.parametrize("places", [0, 2, 3])
def test_each_currency_has_the_same_minor_unit(places: int) -> None:
    standin = {0: fake_stripe.ZERO_DECIMAL, 3: fake_stripe.THREE_DECIMAL}
    shop = {code for code in money.SUPPORTED_CURRENCIES if money.exponent(code) == places}
    if places in standin:
        assert shop == standin[places]
    else:
        assert shop == fake_stripe.CURRENCIES - fake_stripe.ZERO_DECIMAL - fake_stripe.THREE_DECIMAL


def test_the_stand_in_prints_amounts_in_the_shops_minor_units() -> None:
    for code in sorted(money.SUPPORTED_CURRENCIES):
        major = fake_stripe.format_amount(12340, code).split()[0].lstrip("$€£¥₹R₩").replace(",", "")
        assert money.to_major(12340, code) == money.to_major(int(major.replace(".", "")), code)
        assert major.count(".") == (money.exponent(code) > 0), (code, major)


def test_the_same_charge_bounds() -> None:
    shop = {c: money.minimum_charge(c) for c in money.SUPPORTED_CURRENCIES}
    assert {c: m for c, m in shop.items() if m is not None} == fake_stripe.MINIMUM_AMOUNTS
    assert fake_stripe.MAX_AMOUNT == money.MAX_AMOUNT


def test_checkout_session_lives_inside_the_stand_ins_expires_at_bounds() -> None:
    """The shop's CHECKOUT_EXPIRES_MINUTES bounds and its clock-skew margins are Stripe's
    expires_at bounds, which the stand-in enforces."""
    low, high = fake_stripe.MIN_SESSION_LIFE_SECONDS, fake_stripe.MAX_SESSION_LIFE_SECONDS
    skew = checkout.CLOCK_SKEW_ALLOWANCE_SECONDS
    assert (checkout._MIN_LIFE - skew, checkout._MAX_LIFE + skew) == (low, high)
    for minutes, accepted in [(low // 60, True), (low // 60 - 1, False)]:
        assert _expires_minutes_accepted(minutes) is accepted
    for minutes, accepted in [(high // 60, True), (high // 60 + 1, False)]:
        assert _expires_minutes_accepted(minutes) is accepted


def _expires_minutes_accepted(minutes: int) -> bool:
    try:
        load_settings({**REQUIRED, "CHECKOUT_EXPIRES_MINUTES": str(minutes)}, env_file=None)
    except ConfigError:
        return False
    return True


def test_the_same_telegram_limits() -> None:
    assert fake_telegram.MAX_TEXT_UTF16 == texts.MAX_TEXT == 4096
    assert fake_telegram.MAX_CAPTION_UTF16 == texts.MAX_CAPTION == 1024
    assert fake_telegram.MAX_CALLBACK_DATA_BYTES == callbacks.MAX_CALLBACK_BYTES == 64
    assert fake_telegram.MAX_CALLBACK_ANSWER_UTF16 == 200


def test_the_shop_counts_text_length_as_telegram_does() -> None:
    for text in ["plain", "café", "emoji 😀 twice 😀", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"]:
        assert texts.utf16_len(text) == fake_telegram.utf16_len(text)


@pytest.mark.parametrize(("count", "accepted"), [(100, True), (101, False)])
async def test_the_stand_in_caps_line_items_as_stripe_documents(count: int, accepted: bool) -> None:
    """The shop sends one line item per order; the stand-in holds it to Stripe's cap (100 in
    payment mode) so a cart that outgrows it fails in the tests, not in production."""
    item = shop_params()["line_items"][0]
    async with fake_stripe.FakeStripe() as fake, sdk_client(fake) as client:
        params = shop_params(line_items=[item] * count)
        if accepted:
            assert (await create(client, params)).status == "open"
            return
        with pytest.raises(stripe.InvalidRequestError) as refused:
            await create(client, params)
    assert refused.value.param == "line_items"
    assert count > fake_stripe.MAX_LINE_ITEMS
