"""Whether a cart's goods can go in the one receipt its order is paid with.

One order is one payment and one receipt: the goods are edited into the order's own message
(so a repeated delivery changes nothing), and that message holds MAX_TEXT. Stock items are
never cut, so a cart whose keys alone would overflow it must be refused before the buyer pays,
not discovered after. The estimate is made from the products at checkout, before any item is
chosen, so it takes every item as long as the longest one left in its pool (at most
storage.stock.MAX_ITEM_CHARS) and every merchant text at the length the receipt shows it
(MAX_DELIVERY_TEXT at most). Should a longer item be handed out after all (one uploaded later,
given to a payment that came late), the receipt still fits: it names the lines it had no room
for (bot/buyer/notices.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.texts import MAX_DELIVERY_TEXT, MAX_TEXT, clip, utf16_len
from storage.models import Product, ProductKind
from storage.stock import MAX_ITEM_CHARS

# The receipt around the goods (bot/buyer/notices.py receipt): the paid header with the order
# number, up to four money lines, the refund line, "Your purchase", and the 100 units kept
# spare by the renderer.
RECEIPT_FRAME = 420 + 100
# A line's title row: the title (at most 128) in bold, "× 10 — $123,456.78", the blank line.
LINE_FRAME = 128 + 40
ITEM_MARKUP = len("<code></code>\n")
# What a line of the other kinds says: the shipping address (as Stripe collected it) and its
# sentences, the booking confirmation, the merchant-will-be-in-touch note.
SHIPPING_NOTE = 400
OTHER_NOTE = 100


def fits_one_receipt(lines: Sequence[tuple[Product, int, int]]) -> bool:
    """True when the goods of these (product, quantity, longest item) lines fit one receipt
    message: each stock item as long as the longest in its pool, each digital text whole, the
    other kinds' fixed notes (their merchant notes give way in the receipt, so they are not
    counted)."""
    used = RECEIPT_FRAME
    for product, quantity, longest in lines:
        used += LINE_FRAME
        if product.kind is ProductKind.DIGITAL_STOCK:
            used += quantity * (min(longest, MAX_ITEM_CHARS) + ITEM_MARKUP)
        elif product.kind is ProductKind.DIGITAL_TEXT:
            text = clip(product.delivery_text.strip(), MAX_DELIVERY_TEXT)
            used += utf16_len(escape(text)) or OTHER_NOTE
        elif product.kind is ProductKind.PHYSICAL:
            used += SHIPPING_NOTE
        else:
            used += OTHER_NOTE
    return used <= MAX_TEXT
