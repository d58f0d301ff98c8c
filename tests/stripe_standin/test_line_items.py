"""Sessions of many line items (a cart): one currency, at most 100 lines in payment mode, the
line items listed page by page with each line's subtotal, discount and total, and a discount
shared out over the lines so that they add up to the session's figures."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from sandbox.fake_stripe import FakeStripe
from tests.stripe_standin.sdk import Params, create, shop_params


def line(name: str, unit_amount: int, quantity: int = 1, currency: str = "usd") -> Params:
    return {
        "price_data": {
            "currency": currency,
            "unit_amount": unit_amount,
            "product_data": {"name": name},
        },
        "quantity": quantity,
    }


def cart(count: int) -> list[Params]:
    """`count` lines of different prices and quantities: line n costs (n + 1) × $1.01."""
    return [line(f"Product {n}", 101 * (n + 1), quantity=n % 3 + 1) for n in range(count)]


async def all_line_items(client: stripe.StripeClient, session_id: str, limit: int) -> list[Any]:
    """Every line item of a session, read page by page as the API pages them."""
    items: list[Any] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        page = await client.v1.checkout.sessions.line_items.list_async(session_id, params)  # type: ignore[arg-type]
        items += page.data
        if not page.has_more:
            return items
        params = {"limit": limit, "starting_after": page.data[-1].id}


async def test_a_cart_of_twenty_lines_lists_page_by_page_and_adds_up(
    client: stripe.StripeClient,
) -> None:
    session = await create(client, shop_params(line_items=cart(20)))
    first = await client.v1.checkout.sessions.line_items.list_async(session.id)
    assert len(first.data) == 10 and first.has_more  # the default page is ten
    assert first.url == f"/v1/checkout/sessions/{session.id}/line_items"
    items = await all_line_items(client, session.id, limit=8)
    assert [item.description for item in items] == [f"Product {n}" for n in range(20)]
    assert len({item.id for item in items}) == 20
    for n, item in enumerate(items):
        assert item.price is not None and item.price.unit_amount == 101 * (n + 1)
        assert item.quantity == n % 3 + 1
        assert item.amount_subtotal == item.amount_total == 101 * (n + 1) * (n % 3 + 1)
        assert item.amount_discount == 0 and item.currency == "usd"
    assert session.amount_subtotal == sum(item.amount_subtotal for item in items)
    assert session.amount_total == session.amount_subtotal


async def test_a_hundred_lines_is_the_most_one_session_takes(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    session = await create(client, shop_params(line_items=cart(100)))
    assert len(await all_line_items(client, session.id, limit=100)) == 100
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await create(client, shop_params(line_items=cart(101)))
    assert refused.value.param == "line_items"
    assert "up to 100 line items in `payment` mode" in str(refused.value.user_message)
    assert list(fake.sessions) == [session.id]


async def test_lines_in_two_currencies_are_refused(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    lines = [line("Key", 499), line("Tea", 450, currency="eur"), line("Mug", 1800)]
    with pytest.raises(stripe.InvalidRequestError) as refused:
        await create(client, shop_params(line_items=lines))
    assert refused.value.param == "line_items" and refused.value.http_status == 400
    assert "same currency" in str(refused.value.user_message)
    with pytest.raises(stripe.InvalidRequestError) as other:
        await create(client, shop_params(line_items=lines[::2], currency="eur"))
    assert other.value.param == "currency"
    assert fake.sessions == {}


async def test_every_line_needs_a_quantity_a_name_and_an_amount(
    client: stripe.StripeClient,
) -> None:
    """The checks apply to each line and name it: the third line here, not the first."""
    for broken, param in [
        ({"price_data": line("x", 100)["price_data"]}, "line_items[2][quantity]"),
        ({**line("x", 100), "quantity": 0}, "line_items[2][quantity]"),
        (
            {"price_data": {"currency": "usd", "unit_amount": 100}, "quantity": 1},
            "line_items[2][price_data][product_data]",
        ),
        (
            {"price_data": {"currency": "usd", "product_data": {"name": "x"}}, "quantity": 1},
            "line_items[2][price_data][unit_amount]",
        ),
        (
            {"price_data": {"unit_amount": 100, "product_data": {"name": "x"}}, "quantity": 1},
            "line_items[2][price_data][currency]",
        ),
    ]:
        with pytest.raises(stripe.InvalidRequestError) as refused:
            await create(client, shop_params(line_items=[*cart(2), broken]))
        assert refused.value.param == param


async def test_a_fixed_discount_is_shared_over_the_lines_and_never_below_zero(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    """$0.03 off two $1 lines and a free one: the cents go where the shares' fractions are
    largest, all of the discount is given and the free line stays at zero."""
    coupon = fake.add_coupon(amount_off=3, currency="usd")
    lines = [line("A", 100), line("B", 100), line("Free gift", 0)]
    session = await create(client, shop_params(line_items=lines, discounts=[{"coupon": coupon}]))
    items = await all_line_items(client, session.id, limit=10)
    assert [item.amount_discount for item in items] == [2, 1, 0]
    assert [item.amount_total for item in items] == [98, 99, 0]
    assert session.total_details is not None and session.total_details.amount_discount == 3
    assert session.amount_total == sum(item.amount_total for item in items) == 197
    assert all("discounts" not in item for item in items)  # includable: only when expanded
    expanded = await client.v1.checkout.sessions.line_items.list_async(
        session.id, {"expand": ["data.discounts", "data.taxes"]}
    )
    shares = [
        [(d.amount, d.discount.source.coupon) for d in i.discounts or []] for i in expanded.data
    ]
    assert shares == [[(2, coupon)], [(1, coupon)], []]
    assert all(item.taxes == [] for item in expanded.data)


async def test_a_promotion_code_on_a_cart_spreads_over_lines_and_spares_shipping(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    """A code typed on the page: each line's discount and total change, the shares add up to
    the session's discount, and shipping is neither discounted nor a line item."""
    code = fake.add_promotion_code(fake.add_coupon(percent_off=15), "CART15")
    shipping = {
        "shipping_rate_data": {
            "display_name": "Post",
            "type": "fixed_amount",
            "fixed_amount": {"amount": 500, "currency": "usd"},
        }
    }
    params = shop_params(
        line_items=[line("Key", 499, 2), line("Ebook", 1200), line("Mug", 1800)],
        allow_promotion_codes=True,
        shipping_address_collection={"allowed_countries": ["US"]},
        shipping_options=[shipping],
    )
    session = await create(client, params)
    paid = fake.pay(session.id, promotion_code="CART15")
    items = await all_line_items(client, session.id, limit=2)
    subtotal = 2 * 499 + 1200 + 1800
    discount = round(subtotal * 0.15)  # 599.7 → 600
    assert len(items) == 3  # shipping is not a line item
    assert sum(item.amount_discount for item in items) == discount
    assert paid["total_details"]["amount_discount"] == discount
    assert all(0 < item.amount_discount < item.amount_subtotal for item in items)
    assert [item.amount_total for item in items] == [
        item.amount_subtotal - item.amount_discount for item in items
    ]
    assert paid["amount_subtotal"] == subtotal
    assert paid["amount_total"] == sum(item.amount_total for item in items) + 500
    assert fake.payment_intents[paid["payment_intent"]]["amount"] == paid["amount_total"]
    expanded = await client.v1.checkout.sessions.line_items.list_async(
        session.id, {"expand": ["data.discounts"]}
    )
    for item in expanded.data:
        [share] = item.discounts or []
        assert share.amount == item.amount_discount
        assert (
            share.discount.promotion_code == code and share.discount.checkout_session == session.id
        )
