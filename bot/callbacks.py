"""Callback data for every inline button the bot sends: one codec, one prefix per feature.

A kind of button is a `Button`: its prefix and the kinds of its arguments. The same object
encodes the data (refusing anything over Telegram's 64 bytes), decodes it (ids through
`shop.ids.parse_id`, so only ASCII digits name a row) and gives the exact pattern its one
handler is registered with. Data that matches no pattern (an old layout, a forged button)
reaches the stale-button handler registered last, which answers it.

Prefixes: the buyer's one-word codes (`cat`, `buy`, … — unchanged, so buttons already in
buyers' chats keep working), all bot/buyer's; newer features, the admin's and the buyer's
alike, are `<feature>:<action>`, each feature one module's (`ADMIN_FEATURES`,
`BUYER_FEATURES`). A prefix is registered once.

Only ids, small numbers and short codes go into callback data — never prices or titles — so a
forged callback can at most ask for something its sender could ask for anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from shop.i18n import shipped_languages
from shop.ids import ID_PATTERN, parse_id
from storage.models import ProductKind, ProductRail

MAX_QUANTITY = 10
MAX_CALLBACK_BYTES = 64
CATEGORY_BUTTONS = 24  # existing categories offered as buttons; more can still be typed


@dataclass(frozen=True)
class Arg:
    """One argument's kind: the regex it is written as, and how it reads back."""

    pattern: str
    is_id: bool  # read as an int with parse_id; otherwise kept as the text

    def read(self, text: str) -> int | str | None:
        if re.fullmatch(self.pattern, text) is None:
            return None
        return parse_id(text) if self.is_id else text


ID = Arg(ID_PATTERN, is_id=True)
TOKEN = Arg("[0-9a-f]{16}", is_id=False)  # a refund confirmation's server-side token


def numbers(low: int, high: int) -> Arg:
    """A small number in [low, high], spelled out in the pattern so nothing else matches."""
    return Arg("(?:" + "|".join(str(n) for n in range(high, low - 1, -1)) + ")", is_id=True)


def words(*choices: str) -> Arg:
    """One of a few short codes."""
    return Arg("(?:" + "|".join(re.escape(choice) for choice in choices) + ")", is_id=False)


@dataclass(frozen=True)
class Callback:
    """Decoded callback data: which button, and its arguments (ints, or codes as text)."""

    prefix: str
    args: tuple[int | str, ...]

    def id(self, index: int) -> int:
        value = self.args[index]
        assert isinstance(value, int), f"argument {index} of {self.prefix} is not an id"
        return value

    def word(self, index: int) -> str:
        value = self.args[index]
        assert isinstance(value, str), f"argument {index} of {self.prefix} is not a code"
        return value


@dataclass(frozen=True)
class Button:
    """One kind of button: data `<prefix>:<arg>:…`, each argument of its kind."""

    prefix: str
    args: tuple[Arg, ...]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The exact regex of this button's data, for its one CallbackQueryHandler (`\\Z`, not
        `$`: PTB matches with `re.match`, and `$` would let a trailing newline through)."""
        parts = [re.escape(self.prefix), *(arg.pattern for arg in self.args)]
        return re.compile("^" + ":".join(parts) + r"\Z")

    def encode(self, *values: int | str) -> str:
        data = ":".join([self.prefix, *(str(value) for value in values)])
        if self.decode(data) is None:
            raise ValueError(f"bad callback {self.prefix}{values}")
        if len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
        return data

    def decode(self, data: str) -> Callback | None:
        """The arguments of `data` when it is this button's, else None (old or forged)."""
        if self.pattern.match(data) is None:
            return None
        raw = data[len(self.prefix) + 1 :].split(":") if self.args else []
        values = [arg.read(text) for arg, text in zip(self.args, raw, strict=True)]
        return Callback(self.prefix, tuple(value for value in values if value is not None))


BUTTONS: dict[str, Button] = {}
ADMIN_FEATURES = {
    "ap": "bot/admin/products.py",
    "ae": "bot/admin/product_edit.py",
    "ak": "bot/admin/stock.py",
    "aw": "bot/admin/wizard.py",
    "ao": "bot/admin/orders.py",
    "sh": "bot/admin/shipping.py",
    "ar": "bot/admin/refunds.py",
    "as": "bot/admin/sales.py",
    "tr": "bot/admin/translations.py",
}
BUYER_FEATURES = {
    "ct": "bot/buyer/cart.py",
    "sp": "bot/buyer/paysupport.py",
    "st": "bot/buyer/stars.py",
    "lg": "bot/language_menu.py",  # everyone's, admins' too: nothing in it is admin-only
}
FEATURES = ADMIN_FEATURES | BUYER_FEATURES


def button(prefix: str, *args: Arg) -> Button:
    """Register a kind of button; a prefix is taken once, and a `<feature>:<action>` one
    belongs to a known feature (so no two modules share a prefix)."""
    if prefix in BUTTONS:
        raise ValueError(f"callback prefix {prefix!r} is taken")
    feature, colon, _ = prefix.partition(":")
    if (feature in FEATURES) != bool(colon):
        raise ValueError(f"callback prefix {prefix!r} names no feature")
    BUTTONS[prefix] = made = Button(prefix, args)
    return made


def encode(prefix: str, *args: int | str) -> str:
    return BUTTONS[prefix].encode(*args)


def decode(data: str) -> Callback | None:
    """Parse any of the bot's callback data; None for anything we did not make."""
    for candidate in (data.split(":", 1)[0], ":".join(data.split(":", 2)[:2])):
        found = BUTTONS.get(candidate)
        if found is not None:
            return found.decode(data)
    return None


# --- the buyer (bot/buyer) ---------------------------------------------------------------------
CATALOG = button("cat", ID)  # catalog page (or the category menu when there are several)
CATEGORY = button("cc", ID, ID)  # a category's page: its first product's id, page
PRODUCT = button("prod", ID)  # product card
QUANTITY = button("qty", ID, numbers(1, MAX_QUANTITY))  # re-draws the card's buttons
AT_MOST = button("max", ID)  # + at the most a buyer can take (the toast says why)
BUY = button("buy", ID, numbers(1, MAX_QUANTITY))  # product id, quantity
ORDERS = button("ord", ID)  # the buyer's orders page
SEND_AGAIN = button("again", ID)  # send the goods of an order again
BUY_AGAIN = button("reorder", ID)  # a cart order that will not be paid: its lines back in the cart
LABEL = button("noop")  # a label (page counter, quantity), the buyer's and the admin's alike

# --- admin: /products (bot/admin/products.py) --------------------------------------------------
PRODUCTS_PAGE = button("ap:l", ID)
PRODUCT_CARD = button("ap:o", ID)
PRODUCT_VISIBLE = button("ap:v", ID, numbers(0, 1))
PRODUCT_UP = button("ap:up", ID)
PRODUCT_DOWN = button("ap:dn", ID)
PRODUCT_DELETE = button("ap:del", ID)
PRODUCT_DELETE_YES = button("ap:delok", ID)

# --- admin: a product's Edit dialog (bot/admin/product_edit.py) --------------------------------
EDIT_MENU = button("ae:m", ID)  # the card's Edit: its buttons become the fields
EDIT_FIELD = button("ae:f", ID, numbers(0, 8))  # product id, index in product_edit.FIELDS
EDIT_CATEGORY = button("ae:c", ID, numbers(0, CATEGORY_BUTTONS - 1))  # product id, offered
EDIT_NO_CATEGORY = button("ae:nc", ID)
EDIT_RAIL = button("ae:r", ID, words(*(rail.value for rail in ProductRail)))  # product id, rail

# --- admin: /stock (bot/admin/stock.py) ---------------------------------------------------------
STOCK_PRODUCT = button("ak:p", ID)

# --- admin: /addproduct (bot/admin/wizard.py); the first id is the draft's token ----------------
WIZARD_KIND = button("aw:k", ID, words(*(kind.value for kind in ProductKind)))
WIZARD_RAIL = button("aw:r", ID, words(*(rail.value for rail in ProductRail)))
WIZARD_CATEGORY = button("aw:c", ID, numbers(0, CATEGORY_BUTTONS - 1))
WIZARD_NO_CATEGORY = button("aw:nc", ID)
WIZARD_SAVE = button("aw:s", ID)
WIZARD_SAVE_HIDDEN = button("aw:sh", ID)
WIZARD_DISCARD = button("aw:x", ID)
WIZARD_PREVIEW = button("aw:pv", ID)  # a buyer's button on the preview card

# --- admin: /orders (bot/admin/orders.py) -------------------------------------------------------
ORDER_FILTERS = ("a", "s", "w", "p", "r", "x")
ORDERS_PAGE = button("ao:l", words(*ORDER_FILTERS), ID)  # filter, page
# an order, and the filter and page of the list it was opened from
ORDER_DETAIL = button("ao:o", ID, words(*ORDER_FILTERS), ID)
ORDER_RESEND = button("ao:rs", ID)

# --- admin: shipping (bot/admin/shipping.py) ----------------------------------------------------
SHIP = button("sh:s", ID)  # Mark shipped: asks for the tracking number
SHIP_TRACKING = button("sh:t", ID)  # add or correct a shipped order's tracking number
SHIP_NO_TRACKING = button("sh:n", ID)
SHIP_CANCEL = button("sh:x", ID)
SHIP_DELIVERED = button("sh:d", ID)

# --- admin: refunds (bot/admin/refunds.py) ------------------------------------------------------
REFUND = button("ar:f", ID)  # an order's detail → a confirmation for everything left
REFUND_YES = button("ar:y", TOKEN)
REFUND_NO = button("ar:n", TOKEN)

# --- admin: /sales (bot/admin/sales.py) ---------------------------------------------------------
SALES_OVERVIEW = button("as:o")
SALES_WINDOWS = ("d", "w", "m", "a")  # today, 7 days, 30 days, all time
SALES_WINDOW = button("as:w", words(*SALES_WINDOWS))

# --- admin: a product's own translations (bot/admin/translations.py) -----------------------------
# A language by its catalog code ("es", "pt_BR"): one of the languages this build ships, the only
# ones LANGUAGES can offer (bot/config/languages.py); the handlers re-check that it is offered.
TRANSLATION_CODES = tuple(shipped_languages())
TRANSLATION_PARTS = ("t", "d", "x", "c")  # title, description, delivery text, category name
TRANSLATIONS = button("tr:o", ID)  # a product's overview: its languages, what is translated
TRANSLATION_LANGUAGE = button("tr:l", ID, words(*TRANSLATION_CODES))  # product, language
TRANSLATION_EDIT = button("tr:e", ID, words(*TRANSLATION_CODES), words(*TRANSLATION_PARTS))
TRANSLATION_REMOVE = button("tr:x", ID, words(*TRANSLATION_CODES), words(*TRANSLATION_PARTS))

# --- the buyer's cart (bot/buyer/cart.py) -------------------------------------------------------
CART_ADD = button("ct:a", ID, numbers(1, MAX_QUANTITY))  # a card's Add to cart: product, quantity
CART_HERE, CART_NEW = "i", "n"  # the cart in place of the tapped message, or as a new message
CART_OPEN = button("ct:o", words(CART_HERE, CART_NEW))
CART_LESS = button("ct:m", ID)  # − on a line (product id)
CART_MORE = button("ct:p", ID)  # + on a line
CART_REMOVE = button("ct:x", ID)  # ✕ on a line
CART_EMPTY = button("ct:e")  # Empty cart: asks first
CART_EMPTY_YES = button("ct:ey")
CART_CHECKOUT = button("ct:c")
CART_STARS = button("ct:s")  # ⭐ Pay N Stars: the cart as one Stars invoice

# --- the buyer's /paysupport (bot/buyer/paysupport.py) ------------------------------------------
SUPPORT_ASK = button("sp:a", ID)  # Ask about this order: the buyer's next message goes with it

# --- the buyer's Telegram Stars purchase (bot/buyer/stars.py) -----------------------------------
STARS_BUY = button("st:b", ID, numbers(1, MAX_QUANTITY))  # a card's ⭐ Buy: product, quantity

# --- /language, everyone's (bot/language_menu.py) ----------------------------------------------
# The code of the language tapped, as the catalogs name it ("es", "pt_BR", "zh_Hant", "es_419"),
# or FOLLOW_APP: forget the choice and follow the Telegram app's language again. Any well-formed
# code passes the codec, so one the shop does not offer (a forged tap, or LANGUAGES changed
# since the menu was sent) reaches the menu's handler, which says so.
FOLLOW_APP = "auto"  # four letters: no language's code
LANGUAGE_CODE = Arg(f"(?:{FOLLOW_APP}|[a-z]{{2,3}}(?:_[A-Za-z0-9]{{2,8}})?)", is_id=False)
LANGUAGE_CHOICE = button("lg:c", LANGUAGE_CODE)
