"""The chat edge's shape: every button goes through the one codec to exactly one handler, every
admin button re-checks the admin, buttons of an older layout are answered, and every handler
gets the typed ShopContext."""

from __future__ import annotations

import asyncio
import re
import typing
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from bot import callbacks, texts
from bot.admin import order_texts as admin_orders
from bot.app import ShopApp
from bot.buyer import texts as buyer_texts
from bot.callbacks import ID, TOKEN, Button
from bot.context import ShopContext
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from shop.i18n import ENGLISH
from storage.models import Order, OrderStatus, ProductKind
from tests.conftest import ADMIN_ID, BUYER_ID
from tests.people import Person
from tests.shop_records import order_record

BUYER_PREFIXES = {"cat", "cc", "prod", "qty", "max", "buy", "ord", "again", "reorder", "noop"}


def _all_handlers(app: ShopApp) -> Iterator[BaseHandler[Any, Any, Any]]:
    """Every handler the application holds, those inside conversations included."""
    for group in app.application.handlers.values():
        for handler in group:
            yield handler
            if isinstance(handler, ConversationHandler):
                yield from handler.entry_points
                for state in handler.states.values():
                    yield from state
                yield from handler.fallbacks


def _button_handlers(app: ShopApp) -> list[CallbackQueryHandler[Any, Any]]:
    return [h for h in _all_handlers(app) if isinstance(h, CallbackQueryHandler)]


def _unwrapped(callback: Callable[..., Any]) -> Callable[..., Any]:
    """The handler function itself, under `admin_only` and `within`."""
    while hasattr(callback, "__wrapped__"):
        callback = callback.__wrapped__
    return callback


def _sample(button: Button) -> str:
    """Valid-looking data for `button`: id 1, or the first of its small numbers or codes."""
    values: list[int | str] = []
    for arg in button.args:
        if arg is ID:
            values.append(1)
        elif arg is TOKEN:
            values.append("0123456789abcdef")
        else:
            first = arg.pattern.removeprefix("(?:").split("|")[0].rstrip(")")
            values.append(int(first) if arg.is_id else first)
    return button.encode(*values)


async def _answers(
    telegram: FakeTelegram, user: int, message: FakeMessage, datas: list[str]
) -> list[dict[str, Any]]:
    """Tap each of `datas` on `message` as `user` (forged taps: not necessarily its buttons)
    and wait for every tap's answer."""
    ids = [
        telegram.user_taps(user, message, data, check_keyboard=False)["callback_query"]["id"]
        for data in datas
    ]

    def answered() -> list[dict[str, Any]]:
        by_id = {a["callback_query_id"]: a for a in telegram.answered_callbacks}
        return [by_id[i] for i in ids if i in by_id]

    for _ in range(200):
        if len(answered()) == len(ids):
            break
        await asyncio.sleep(0.05)
    return answered()


# --- the codec ---------------------------------------------------------------------------------


def test_a_prefix_belongs_to_one_feature() -> None:
    with pytest.raises(ValueError, match="taken"):
        callbacks.button("ao:o", ID)
    with pytest.raises(ValueError, match="no feature"):
        callbacks.button("zz:o", ID)
    features = {prefix.split(":")[0] for prefix in callbacks.BUTTONS if ":" in prefix}
    assert features == set(callbacks.ADMIN_FEATURES) | set(callbacks.BUYER_FEATURES)
    assert not set(callbacks.ADMIN_FEATURES) & set(callbacks.BUYER_FEATURES)
    assert {p for p in callbacks.BUTTONS if ":" not in p} == BUYER_PREFIXES


def test_patterns_are_exact_and_data_fits_64_bytes() -> None:
    for button in callbacks.BUTTONS.values():
        data = _sample(button)
        assert button.pattern.match(data), data
        assert callbacks.decode(data) == button.decode(data) is not None
        for longer in (data + "\n", data + ":1", data + "x", " " + data):
            assert not button.pattern.match(longer), longer
            assert button.decode(longer) is None, longer
    with pytest.raises(ValueError, match="64 bytes"):
        Button("x" * 60, (ID,)).encode(123_456)
    with pytest.raises(ValueError, match="bad callback"):
        callbacks.ORDER_DETAIL.encode(1, "a")
    with pytest.raises(ValueError, match="bad callback"):
        callbacks.ORDER_DETAIL.encode(1, "zz", 0)


# --- the routes --------------------------------------------------------------------------------


async def test_every_button_has_exactly_one_handler_and_the_rest_are_answered_stale(
    app: ShopApp,
) -> None:
    handlers = _button_handlers(app)
    patterns = [h.pattern for h in handlers if h.pattern is not None]
    codec = {button.pattern for button in callbacks.BUTTONS.values()}
    assert sorted(p.pattern for p in patterns if isinstance(p, re.Pattern)) == sorted(
        p.pattern for p in codec
    ), "each codec button once, and no pattern from anywhere else"
    by_pattern = {b.pattern: prefix for prefix, b in callbacks.BUTTONS.items()}
    for handler in handlers:
        if not isinstance(handler.pattern, re.Pattern):
            continue
        feature = by_pattern[handler.pattern].partition(":")[0]
        owner = callbacks.FEATURES.get(feature, "bot/buyer/")
        module = _unwrapped(handler.callback).__module__.replace(".", "/")
        assert module.startswith(owner.removesuffix(".py")), (feature, module)
    [stale] = [h for h in handlers if h.pattern is None]
    last_group = app.application.handlers[max(app.application.handlers)]
    assert last_group[-1] is stale, "the stale-button answer comes after every pattern"


def test_every_handler_gets_the_typed_shop_context(app: ShopApp) -> None:
    assert app.application.context_types.context is ShopContext
    seen = 0
    for handler in _all_handlers(app):
        if isinstance(handler, ConversationHandler):
            continue
        callback = _unwrapped(handler.callback)
        hints = typing.get_type_hints(callback)
        assert hints.get("context") is ShopContext, callback.__qualname__
        seen += 1
    assert seen > 50


async def test_a_buyer_tapping_any_admin_button_gets_the_buyer_answer_and_nothing_else(
    app: ShopApp, telegram: FakeTelegram, buyer: Person
) -> None:
    menu = await buyer.sends("/start", "Welcome")
    admin_data = [
        _sample(b)
        for p, b in callbacks.BUTTONS.items()
        if p not in BUYER_PREFIXES and p.partition(":")[0] in callbacks.ADMIN_FEATURES
    ]
    answers = await _answers(telegram, BUYER_ID, menu, admin_data)
    assert [(a["text"], a["show_alert"]) for a in answers] == [
        (texts.unknown_button(ENGLISH), True)
    ] * len(admin_data)
    await buyer.nothing_more()


async def test_buttons_of_the_old_layouts_are_answered_as_expired(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    """Admin buttons sent before the codec (shipping and refunds under `ao:`, the wizard's
    `aw:<token>:<action>`, …) still sit in admins' chats: each tap is answered, none crashes."""
    listing = await admin.sends("/orders", "Orders")
    old = [
        "ao:sh:1",
        "ao:tr:1",
        "ao:nt:1",
        "ao:sx:1",
        "ao:dv:1",
        "ao:rf:1",
        "ao:ry:0123456789abcdef",
        "ao:rn:0123456789abcdef",
        "ao:n",
        "ap:n",
        "ap:e:1",
        "ap:st:1",
        "ap:f:1:0",
        "ap:c:1:none",
        "aw:1:save",
        "aw:1:k:physical",
        "buy:1",
        "prod:1\n",
    ]
    answers = await _answers(telegram, ADMIN_ID, listing, old)
    assert [(a["text"], a["show_alert"]) for a in answers] == [
        (texts.admin_button_expired(ENGLISH), True)
    ] * len(old)
    await admin.nothing_more()


# --- the order's state in words ----------------------------------------------------------------


def _order(kind: ProductKind = ProductKind.PHYSICAL, **changes: Any) -> Order:
    changes.setdefault("shipping_address", "1 Main St" if kind is ProductKind.PHYSICAL else None)
    return order_record(kind=kind, **changes)


def _states() -> Iterator[Order]:
    for status in OrderStatus:
        yield _order(ProductKind.DIGITAL_TEXT, status=status)
        yield _order(status=status)
    yield _order(shipped_at=1, tracking="TRK-1")
    yield _order(shipped_at=1, delivered_at=2, status=OrderStatus.PARTIALLY_REFUNDED)


def test_the_buyer_and_the_admins_read_an_order_s_state_in_the_same_words() -> None:
    """One table of labels: what the buyer's /orders says about an order is what the admins'
    /orders and the order's detail say (the buyer also sees a shipped order's tracking)."""
    for order in _states():
        label = texts.order_state(ENGLISH, order)
        assert label in buyer_texts.orders_list(ENGLISH, [order], 0, 1), order.status
        assert label in admin_orders.list_text(ENGLISH, [order], admin_orders.FILTERS[0], 0, 1, 1)
        assert label in admin_orders.detail_text(ENGLISH, order, [])
    shipped = _order(shipped_at=1, tracking="TRK-1")
    assert "🚚 shipped · tracking TRK-1" in buyer_texts.orders_list(ENGLISH, [shipped], 0, 1)
