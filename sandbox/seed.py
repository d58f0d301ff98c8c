"""The demo shop a fresh sandbox opens with: one product of each kind, two categories.

Written through the same storage functions the admin commands use, so the demo is a shop like
any other: the admin can edit, hide or delete these products, and add stock.
"""

from __future__ import annotations

import logging

from storage import products, stock
from storage.db import Database
from storage.models import ProductKind

log = logging.getLogger(__name__)

PHOTO_PATH = "/sandbox/static/demo-mug.png"
DIGITAL = "Digital goods"
MERCH = "Merch & services"
DEMO_KEYS = ["SBX-1207-QZ", "SBX-3381-LM", "SBX-4410-TR", "SBX-5902-HX", "SBX-7713-PB"]


async def seed_demo_shop(db: Database, public_base_url: str) -> bool:
    """Add the demo products when the catalog is empty; True when it did.

    A sandbox without products has nothing to show, so an emptied catalog is filled again at
    the next start. The photo is served by the sandbox itself under `public_base_url`.
    """
    if await products.count_all(db.reader) > 0:
        return False
    async with db.transaction() as tx:
        await products.add(
            tx,
            title="Async Python — the ebook",
            description="A practical guide to asyncio, as a PDF.",
            price_minor=1200,
            currency="usd",
            delivery_text="Download: https://example.com/sandbox/async-python.pdf",
            kind=ProductKind.DIGITAL_TEXT,
            category=DIGITAL,
        )
        game_key = await products.add(
            tx,
            title="Starfield Racer — game key",
            description="One activation key per copy, never shared.",
            price_minor=499,
            currency="eur",
            delivery_text="Redeem the key in the game's launcher under Settings → Keys.",
            kind=ProductKind.DIGITAL_STOCK,
            category=DIGITAL,
        )
        await stock.add_items(tx, game_key, DEMO_KEYS)
        await products.add(
            tx,
            title="Sandbox mug",
            description="350 ml of stoneware with the shop's logo.",
            price_minor=1800,
            currency="usd",
            photo=f"{public_base_url}{PHOTO_PATH}",
            delivery_text="Ships within two business days.",
            kind=ProductKind.PHYSICAL,
            category=MERCH,
        )
        await products.add(
            tx,
            title="30-minute setup call",
            description="We set the shop up with you, on a video call.",
            price_minor=4900,
            currency="usd",
            delivery_text="We will email you within a day to book a time.",
            kind=ProductKind.SERVICE,
            category=MERCH,
        )
    log.info("sandbox: added the demo shop (4 products, %d game keys)", len(DEMO_KEYS))
    return True
