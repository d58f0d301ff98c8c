"""An existing shop upgraded to orders of lines (issue 12): its file at migration 0006, with
single-product orders paid, discounted, refunded in part and in full, shipped and expired, is
opened by starting the app on it; the buyer's /orders, the admin's /orders, each order's detail
and /sales then read word for word as they did on the release before carts.

The expected screens were taken by running this same story on that release (the main branch
before issue 12, whose latest migration is 0006). Two differences are deliberate: the buyer's
/orders now says how much a partial refund gave back (issue 12, item 6), and the admin reads
dates in their own locale, the zone spelled out (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeTelegram
from tests.conftest import ADMIN_ID, app_with
from tests.english import EN
from tests.old_databases import database_at_migration_0006
from tests.people import Person, shown

BUYER = 7  # the buyer of every order in the old file


async def screens(telegram: FakeTelegram) -> dict[str, str]:
    """What the buyer and the admin read on each screen that shows orders."""
    buyer, admin = Person(telegram, BUYER), Person(telegram, ADMIN_ID)
    seen = {"buyer /orders": shown(await buyer.sends("/orders", "Your orders"))}
    seen["admin /orders"] = shown(await admin.sends("/orders", "Orders"))
    for order_id in range(1, 6):
        listing = await admin.sends("/orders", "Orders")
        detail = await admin.taps(listing, f"#{order_id} ·", f"Order #{order_id} ·")
        seen[f"admin order {order_id}"] = shown(detail)
    sales = shown(await admin.sends("/sales", "Sales"))
    seen["admin /sales"] = re.sub(r"as of .+? UTC", "as of (now)", sales)
    return seen


@pytest.mark.sqlite_file
async def test_the_screens_after_the_upgrade_are_the_screens_before_it(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    database_at_migration_0006(tmp_path / "shop.db", refunded_in_full=True)
    async with app_with(tmp_path, telegram, stripe_api):
        seen = await screens(telegram)
    assert seen == EXPECTED


def _at(day: int, minutes: int = 0) -> str:
    """A moment of the old file (days after 1970-01-01) as the admin reads it."""
    return EN.moment(day * 86_400 + minutes * 60)


EXPECTED: dict[str, str] = {
    "buyer /orders": (
        "📦 Your orders\n"
        "\n"
        "#5 · Ebook × 2 · $40.00\n"
        "↩️ refunded\n"
        "\n"
        "#4 · Mug × 1 · $15.00\n"
        "📦 paid, to be shipped\n"
        "\n"
        "#3 · Ebook × 1 · $20.00\n"
        "⌛ link expired\n"
        "\n"
        "#2 · Mug × 2 · $30.00\n"
        "🚚 shipped · ↩️ partly refunded ($10.00)\n"  # what was refunded: new in this release
        "\n"
        "#1 · Ebook × 1 · $15.00\n"
        "✅ delivered"
    ),
    "admin /orders": (
        "📋 Orders · All (5 orders)\n"
        "\n"
        "#5 · Ebook × 2 · $40.00 · ↩️ refunded · unknown buyer\n"
        "#4 · Mug × 1 · $15.00 · 📦 paid, to be shipped · unknown buyer\n"
        "#3 · Ebook × 1 · $20.00 · ⌛ link expired · unknown buyer\n"
        "#2 · Mug × 2 · $30.00 · 🚚 shipped · ↩️ partly refunded · unknown buyer\n"
        "#1 · Ebook × 1 · $20.00 · ✅ delivered · unknown buyer"
    ),
    "admin order 1": (
        "🧾 Order #1 · ✅ delivered\n"
        "Buyer: unknown (id 7)\n"
        "Product: Ebook × 1 (product #1, digital text)\n"
        "Total: $20.00 · discount −$5.00 · charged $15.00 · refunded: $0.00\n"
        f"Created: {_at(0)} · paid: {_at(1)}\n"
        "Checkout session: —\n"
        "Payment intent: pi_1\n"
        "Delivery: — (nothing owed before payment)"
    ),
    "admin order 2": (
        "🧾 Order #2 · 🚚 shipped · ↩️ partly refunded\n"
        "Buyer: unknown (id 7)\n"
        "Product: Mug × 2 (product #2, physical)\n"
        "Total: $30.00 · refunded: $10.00\n"
        f"Created: {_at(0)} · paid: {_at(1, minutes=1)}\n"
        "Checkout session: —\n"
        "Payment intent: pi_2\n"
        "Receipt: — (nothing owed before payment)\n"
        "\n"
        "📍 Ship to\n"
        "no address collected\n"
        f"🚚 Shipped {_at(2)}"
    ),
    "admin order 3": (
        "🧾 Order #3 · ⌛ link expired\n"
        "Buyer: unknown (id 7)\n"
        "Product: Ebook × 1 (product #1, digital text)\n"
        "Total: $20.00 · refunded: $0.00\n"
        f"Created: {_at(0)} · paid: —\n"
        "Checkout session: —\n"
        "Payment intent: pi_3\n"
        "Delivery: — (nothing owed before payment)"
    ),
    "admin order 4": (
        "🧾 Order #4 · 📦 paid, to be shipped\n"
        "Buyer: unknown (id 7)\n"
        "Product: Mug × 1 (product #2, physical)\n"
        "Total: $15.00 · refunded: $0.00\n"
        f"Created: {_at(0)} · paid: {_at(3)}\n"
        "Checkout session: —\n"
        "Payment intent: pi_4\n"
        "Receipt: — (nothing owed before payment)\n"
        "\n"
        "📍 Ship to\n"
        "no address collected\n"
        "🚚 Not shipped yet"
    ),
    "admin order 5": (
        "🧾 Order #5 · ↩️ refunded\n"
        "Buyer: unknown (id 7)\n"
        "Product: Ebook × 2 (product #1, digital text)\n"
        "Total: $40.00 · refunded: $40.00\n"
        f"Created: {_at(0)} · paid: {_at(4)}\n"
        "Checkout session: —\n"
        "Payment intent: pi_5\n"
        "Delivery: — (nothing owed before payment)"
    ),
    "admin /sales": (
        "📊 Sales · as of (now)\n"
        "\n"
        "Today (UTC) · Last 7 days · Last 30 days\n"
        "No sales.\n"
        "\n"
        "All time\n"
        "4 orders · 6 units\n"
        "USD: revenue $100.00 · refunds $50.00 · net $50.00\n"
        "\n"
        "🏆 Top 5 products by revenue (all time)\n"
        "USD\n"
        "1. Ebook — $55.00 · 3 units\n"
        "2. Mug — $45.00 · 3 units"
    ),
}
