"""Checkout Sessions are created, read, listed and expired as Stripe does: proven with the SDK."""

from __future__ import annotations

import functools
import time
from typing import Any, cast

import aiohttp
import pytest
import stripe

from sandbox.fake_stripe import FakeStripe
from tests.stripe_standin.sdk import Params, create, item, price_data, shop_params

# --------------------------------------------------------------------------------------------
# creating sessions
# --------------------------------------------------------------------------------------------


async def test_create_session_like_a_shop(fake: FakeStripe, client: stripe.StripeClient) -> None:
    params = shop_params()
    session = await create(client, params, "order-42-checkout")

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{fake.api_base}/c/pay/{session.id}"
    assert (session.amount_subtotal, session.amount_total, session.currency) == (3000, 3000, "usd")
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert session.client_reference_id == "order-42"
    assert session.metadata is not None
    assert session.metadata.to_dict() == {"order_id": "42", "telegram_user_id": "1001"}
    assert session.success_url == params["success_url"]  # the template is kept verbatim
    assert session.expires_at == params["expires_at"]
    assert session.payment_intent is None and session.customer_details is None
    assert session.livemode is False
    assert session.last_response is not None
    assert str(session.last_response.request_id).startswith("req_")
    assert fake.sessions[session.id]["amount_total"] == 3000

    [request] = fake.requests_to("POST", "/v1/checkout/sessions")
    assert request.status == 200 and request.idempotency_key == "order-42-checkout"
    assert request.params["line_items"][0]["quantity"] == "2"  # integers travel as strings
    assert request.params["line_items"][0]["price_data"]["product_data"]["name"] == "Green tea"

    async with aiohttp.ClientSession() as http, http.get(str(session.url)) as page:
        assert page.status == 200
        assert "$30.00 usd" in await page.text()


async def test_default_expiry_is_24_hours(client: stripe.StripeClient) -> None:
    params = shop_params()
    del params["expires_at"]
    session = await create(client, params)
    assert session.expires_at - session.created == 24 * 3600


async def test_line_items_and_expansions(fake: FakeStripe, client: stripe.StripeClient) -> None:
    params = shop_params()
    params["line_items"].append(
        {
            "price_data": {"currency": "usd", "unit_amount": 250, "product_data": {"name": "Cup"}},
            "quantity": 3,
        }
    )
    session = await create(client, params)
    assert session.amount_total == 3000 + 750

    line_items = await client.v1.checkout.sessions.line_items.list_async(session.id)
    assert [li.description for li in line_items.data] == ["Green tea", "Cup"]
    assert [li.amount_total for li in line_items.data] == [3000, 750]
    assert line_items.data[1].price is not None
    assert (line_items.data[1].price.unit_amount, line_items.data[1].quantity) == (250, 3)

    expanded = await client.v1.checkout.sessions.retrieve_async(
        session.id, {"expand": ["line_items"]}
    )
    assert expanded.line_items is not None and len(expanded.line_items.data) == 2
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        await client.v1.checkout.sessions.retrieve_async(session.id, {"expand": ["bogus"]})


async def test_minimums_follow_the_currency(client: stripe.StripeClient) -> None:
    gbp = shop_params()
    price_data(gbp).update(currency="gbp", unit_amount=30)
    item(gbp)["quantity"] = 1
    assert (await create(client, gbp)).amount_total == 30  # £0.30 is Stripe's GBP minimum

    jpy = shop_params()
    price_data(jpy).update(currency="jpy", unit_amount=50)  # zero-decimal: ¥50
    item(jpy)["quantity"] = 1
    assert (await create(client, jpy)).amount_total == 50


async def test_coupon_and_shipping_change_the_total(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    coupon = fake.add_coupon(percent_off=10)
    params = shop_params(
        discounts=[{"coupon": coupon}],
        shipping_address_collection={"allowed_countries": ["US", "GB"]},
        shipping_options=[
            {
                "shipping_rate_data": {
                    "display_name": "Post",
                    "type": "fixed_amount",
                    "fixed_amount": {"amount": 500, "currency": "usd"},
                }
            }
        ],
    )
    session = await create(client, params)
    assert session.amount_subtotal == 3000
    assert session.total_details is not None
    assert session.total_details.amount_discount == 300
    assert session.total_details.amount_shipping == 500
    assert session.amount_total == 3000 - 300 + 500


async def test_a_price_must_exist(fake: FakeStripe, client: stripe.StripeClient) -> None:
    price = fake.add_price(900, "eur", product_name="Matcha")
    session = await create(client, shop_params(line_items=[{"price": price, "quantity": 1}]))
    assert (session.amount_total, session.currency) == (900, "eur")

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await create(client, shop_params(line_items=[{"price": "price_missing", "quantity": 1}]))
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "line_items[0][price]"


# --------------------------------------------------------------------------------------------
# reading: retrieve and list
# --------------------------------------------------------------------------------------------


async def test_retrieving_an_unknown_session(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.checkout.sessions.retrieve_async("cs_test_nope")
    assert raised.value.http_status == 404
    assert (raised.value.code, raised.value.param) == ("resource_missing", "session")
    assert raised.value.user_message == "No such checkout.session: 'cs_test_nope'"

    with pytest.raises(stripe.InvalidRequestError, match="Invalid checkout.session id"):
        await client.v1.checkout.sessions.retrieve_async("{CHECKOUT_SESSION_ID}")


async def test_list_is_newest_first_and_paginates(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    ids = [(await create(client, shop_params(client_reference_id=f"o{i}"))).id for i in range(3)]
    oldest, middle, newest = ids

    page = await client.v1.checkout.sessions.list_async({"limit": 2})
    assert [s.id for s in page.data] == [newest, middle]
    assert page.has_more is True and page.url == "/v1/checkout/sessions"

    rest = await client.v1.checkout.sessions.list_async({"limit": 2, "starting_after": middle})
    assert [s.id for s in rest.data] == [oldest] and rest.has_more is False

    before = await client.v1.checkout.sessions.list_async({"ending_before": oldest})
    assert [s.id for s in before.data] == [newest, middle]

    fake.expire(middle)
    open_only = await client.v1.checkout.sessions.list_async({"status": "open"})
    assert [s.id for s in open_only.data] == [newest, oldest]

    recent = await client.v1.checkout.sessions.list_async({"created": {"gte": int(time.time())}})
    assert len(recent.data) <= 3

    with pytest.raises(stripe.InvalidRequestError) as raised:
        await client.v1.checkout.sessions.list_async({"limit": 101})
    assert raised.value.param == "limit"


async def test_expire(fake: FakeStripe, client: stripe.StripeClient) -> None:
    session = await create(client, shop_params())
    expired = await client.v1.checkout.sessions.expire_async(session.id)
    assert (expired.status, expired.url) == ("expired", None)
    with pytest.raises(stripe.InvalidRequestError, match="status of `open`"):
        await client.v1.checkout.sessions.expire_async(session.id)
    with pytest.raises(ValueError, match="not open"):
        fake.pay(session.id)
    assert fake.session_event("checkout.session.expired", session.id)["data"]["object"][
        "status"
    ] == ("expired")


async def test_list_filters_are_each_applied_exactly(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    """Reconciliation trusts `status` and `created` to leave nothing out and let nothing extra
    in: each bound is applied as documented, a bound Stripe does not know is refused, and a
    filter on an id no session carries matches none."""
    start = 1_900_000_000
    ids = []
    for offset in range(4):
        fake.clock = functools.partial(float, start + offset * 60)
        ids.append((await create(client, shop_params(expires_at=start + 7200))).id)
    fake.pay(ids[1])
    fake.pay(ids[3])
    sessions = client.v1.checkout.sessions

    async def listed(params: Params) -> list[str]:
        return [s.id for s in (await sessions.list_async(cast(Any, params))).data]

    assert await listed({"status": "complete"}) == [ids[3], ids[1]]
    assert await listed({"status": "complete", "created": {"gte": start + 60}}) == [
        ids[3],
        ids[1],
    ]
    assert await listed({"status": "complete", "created": {"gt": start + 60}}) == [ids[3]]
    assert await listed({"created": {"gte": start + 60, "lt": start + 180}}) == [ids[2], ids[1]]
    assert await listed({"created": {"lte": start}}) == [ids[0]]
    assert await listed({"created": start + 120}) == [ids[2]]
    assert await listed({"customer_account": "acct_1"}) == []
    with pytest.raises(stripe.InvalidRequestError) as raised:
        await sessions.list_async(cast(Any, {"created": {"after": start}}))
    assert raised.value.param == "created[after]" and raised.value.code == "parameter_unknown"
