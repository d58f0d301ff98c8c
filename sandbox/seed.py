"""The demo shop a fresh sandbox opens with: one product of each kind in one currency, so a buyer
can put all four in one cart and pay once, and one product in another currency, so the cart's
one-currency rule (a Checkout Session takes one currency) can be seen refusing a mix.

The ebook and the game key also sell for Telegram Stars (rail `both`): Telegram's terms want
digital goods paid in Stars, and a buyer can still put them in the Stripe cart with the mug and
the call. The audio walk stays Stripe-only, as every product made before issue 13 is.

Written through the same storage functions the admin commands use, so the demo is a shop like
any other: the admin can edit, hide or delete these products, and add stock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sandbox.fake_stripe import FakeStripe
from storage import products, stock, translations
from storage.db import Database
from storage.models import ProductKind, ProductRail
from storage.translations import TEXT_FIELDS

log = logging.getLogger(__name__)

PHOTO_PATH = "/sandbox/static/demo-mug.png"
DIGITAL = "Digital goods"
MERCH = "Merch & services"
DEMO_KEYS = ["SBX-1207-QZ", "SBX-3381-LM", "SBX-4410-TR", "SBX-5902-HX", "SBX-7713-PB"]
# A code a buyer can type on the Checkout page when ALLOW_PROMOTION_CODES is on: 10% off.
DEMO_PROMOTION_CODE = "SANDBOX10"
SPANISH_CATEGORIES = {DIGITAL: "Productos digitales", MERCH: "Artículos y servicios"}


@dataclass(frozen=True)
class DemoProduct:
    title: str
    description: str
    price_minor: int
    currency: str
    delivery_text: str
    kind: ProductKind
    category: str
    rail: ProductRail = ProductRail.STRIPE
    stars_price: int | None = None  # whole Stars, when the rail includes Stars
    # The demo merchant's own Spanish texts (title, description, delivery text), as added with
    # /products → 🌐 Translations: a buyer playing in Spanish sees them, the other languages
    # fall back to the originals.
    spanish: tuple[str, str, str] | None = None


# In the order they are added: the ids 1, 2, … of a fresh database. The four kinds share USD.
DEMO_PRODUCTS = (
    DemoProduct(
        title="Async Python — the ebook",
        spanish=(
            "Async Python — el ebook",
            "Una guía práctica de asyncio, en PDF.",
            "Descarga: https://example.com/sandbox/async-python.pdf",
        ),
        description="A practical guide to asyncio, as a PDF.",
        price_minor=1200,
        currency="usd",
        delivery_text="Download: https://example.com/sandbox/async-python.pdf",
        kind=ProductKind.DIGITAL_TEXT,
        category=DIGITAL,
        rail=ProductRail.BOTH,
        stars_price=600,
    ),
    DemoProduct(
        title="Starfield Racer — game key",
        spanish=(
            "Starfield Racer — clave del juego",
            "Una clave de activación por copia, nunca compartida.",
            "Canjea la clave en el lanzador del juego, en Ajustes → Claves.",
        ),
        description="One activation key per copy, never shared.",
        price_minor=499,
        currency="usd",
        delivery_text="Redeem the key in the game's launcher under Settings → Keys.",
        kind=ProductKind.DIGITAL_STOCK,
        category=DIGITAL,
        rail=ProductRail.BOTH,
        stars_price=250,
    ),
    DemoProduct(
        title="Sandbox mug",
        spanish=(
            "Taza del sandbox",
            "350 ml de gres con el logo de la tienda.",
            "Se envía en dos días hábiles.",
        ),
        description="350 ml of stoneware with the shop's logo.",
        price_minor=1800,
        currency="usd",
        delivery_text="Ships within two business days.",
        kind=ProductKind.PHYSICAL,
        category=MERCH,
    ),
    DemoProduct(
        title="30-minute setup call",
        spanish=(
            "Llamada de configuración de 30 minutos",
            "Configuramos la tienda contigo en una videollamada.",
            "Te escribiremos en un día para acordar la hora.",
        ),
        description="We set the shop up with you, on a video call.",
        price_minor=4900,
        currency="usd",
        delivery_text="We will email you within a day to book a time.",
        kind=ProductKind.SERVICE,
        category=MERCH,
    ),
    DemoProduct(
        title="Berlin audio walk",
        description="A 90-minute walking tour as MP3s. Priced in euros: a cart pays in one "
        "currency, so this one is bought on its own.",
        price_minor=650,
        currency="eur",
        delivery_text="Download: https://example.com/sandbox/berlin-walk.zip",
        kind=ProductKind.DIGITAL_TEXT,
        category=DIGITAL,
    ),
)


async def seed_demo_shop(db: Database, public_base_url: str) -> bool:
    """Add the demo products when the catalog is empty; True when it did.

    A sandbox without products has nothing to show, so an emptied catalog is filled again at
    the next start. The mug's photo is served by the sandbox itself under `public_base_url`.
    """
    if await products.count_all(db.reader) > 0:
        return False
    async with db.transaction() as tx:
        for demo in DEMO_PRODUCTS:
            physical = demo.kind is ProductKind.PHYSICAL
            product_id = await products.add(
                tx,
                title=demo.title,
                description=demo.description,
                price_minor=demo.price_minor,
                currency=demo.currency,
                delivery_text=demo.delivery_text,
                kind=demo.kind,
                category=demo.category,
                photo=f"{public_base_url}{PHOTO_PATH}" if physical else None,
                rail=demo.rail,
                stars_price=demo.stars_price,
            )
            if demo.kind is ProductKind.DIGITAL_STOCK:
                await stock.add_items(tx, product_id, DEMO_KEYS)
            for field, text in zip(TEXT_FIELDS, demo.spanish or (), strict=False):
                await translations.set_product_text(tx, product_id, "es", field, text)
        for category, name in SPANISH_CATEGORIES.items():
            await translations.set_category_name(tx, category, "es", name)
    log.info(
        "sandbox: added the demo shop (%d products, %d game keys)",
        len(DEMO_PRODUCTS),
        len(DEMO_KEYS),
    )
    return True


def seed_demo_stripe(stripe: FakeStripe) -> None:
    """Give the Stripe stand-in (fresh at every start, in memory) the demo's promotion code, so
    that a shop allowing promotion codes shows a discount on the Checkout page and the shop's
    check of a discounted amount can be played."""
    coupon = stripe.add_coupon(percent_off=10)
    stripe.add_promotion_code(coupon, DEMO_PROMOTION_CODE)
