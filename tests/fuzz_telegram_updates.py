"""The webhook fuzzer's Telegram updates: every shape the Bot API sends (messages, commands,
taps on real and forged buttons, and the kinds this shop never acts on)."""

from __future__ import annotations

import random
import time
from typing import Any

from tests.conftest import ADMIN_ID
from tests.fuzz_garbage import _hex, _text, garbage
from tests.fuzz_requests import JSON, World


def _tg_user(rng: random.Random, user_id: int) -> JSON:
    user: JSON = {"id": user_id, "is_bot": False, "first_name": _text(rng)[:64] or "X"}
    if rng.random() < 0.5:
        user["language_code"] = rng.choice(["en", "de", "pt-br", "zz", ""])
    if rng.random() < 0.3:
        user["username"] = "u" + _hex(rng, 4)
    return user


def _tg_chat(user_id: int, kind: str = "private") -> JSON:
    return {"id": user_id, "type": kind, "first_name": "Fuzz", "title": "Fuzz channel"}


def _tg_message(rng: random.Random, user_id: int, text: str | None = None) -> JSON:
    message: JSON = {
        "message_id": rng.randint(1, 10**6),
        "from": _tg_user(rng, user_id),
        "chat": _tg_chat(user_id),
        "date": int(time.time()),
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    else:
        message.update(
            rng.choice(
                [
                    {"text": _text(rng)[:4096] or "hi"},
                    {
                        "sticker": {
                            "file_id": "x",
                            "file_unique_id": "y",
                            "width": 1,
                            "height": 1,
                            "is_animated": False,
                            "is_video": False,
                            "type": "regular",
                        }
                    },
                    {"contact": {"phone_number": "+1555", "first_name": "C"}},
                    {"location": {"latitude": 1.5, "longitude": 2.5}},
                    {"photo": [{"file_id": "p", "file_unique_id": "q", "width": 9, "height": 9}]},
                    {"document": {"file_id": "d", "file_unique_id": "e", "file_name": "k.txt"}},
                    {
                        "text": "hello",
                        "reply_to_message": {"message_id": 1, "date": 0, "chat": _tg_chat(user_id)},
                    },
                ]
            )
        )
    return message


def _active_text(rng: random.Random, world: World) -> str:
    product = rng.choice(world.product_ids)
    return rng.choice(
        [
            "/start",
            f"/start p_{product}",
            f"/start p_{rng.randint(10**6, 10**12)}",
            "/start p_" + "9" * 40,
            "/start " + _text(rng)[:60],
            "/help",
            "/catalog",
            "/orders",
            "/nosuchcommand",
            "/addproduct",
            f"/refund {rng.randint(1, 9)}",
            f"/stock {product}",
        ]
    )


def _callback(rng: random.Random, world: World, user_id: int, *, active: bool) -> JSON:
    product = rng.choice(world.product_ids)
    if active:
        data = rng.choice(
            [
                f"buy:{product}:1",
                f"buy:{product}:{rng.choice([0, 11, 10**12])}",
                f"qty:{product}:2",
                f"prod:{product}",
                "cat:0",
                "ord:0",
                f"again:{rng.randint(1, 5)}",
                "noop",
                "adm:x",
                _text(rng)[:64],
            ]
        )
    else:
        data = _text(rng)[:64]
    query: JSON = {
        "id": str(rng.randint(1, 10**18)),
        "from": _tg_user(rng, user_id),
        "chat_instance": str(rng.randint(1, 10**12)),
        "data": data,
    }
    if rng.random() < 0.8:
        query["message"] = _tg_message(rng, user_id, text="card")
        query["message"]["from"] = {"id": 1, "is_bot": True, "first_name": "Bot"}
    else:  # an inaccessible message (date 0), as Telegram sends for old ones
        query["message"] = {"chat": _tg_chat(user_id), "message_id": 1, "date": 0}
    return query


def _active_update(rng: random.Random, world: World, user_id: int, update_id: int) -> JSON:
    """A command or a tap the bot answers; now and then from the admin."""
    if rng.random() < 0.5:
        if rng.random() < 0.05:
            user_id = ADMIN_ID
        return {
            "update_id": update_id,
            "message": _tg_message(rng, user_id, _active_text(rng, world)),
        }
    return {
        "update_id": update_id,
        "callback_query": _callback(rng, world, user_id, active=True),
    }


def _message_kinds(
    rng: random.Random, world: World, user_id: int, user: JSON, now: int
) -> list[tuple[str, Any]]:
    """Messages, posts, taps and inline queries the bot does not act on."""
    return [
        ("message", _tg_message(rng, user_id)),
        ("edited_message", {**_tg_message(rng, user_id), "edit_date": now}),
        (
            "channel_post",
            {"message_id": 5, "date": now, "chat": _tg_chat(-100123, "channel"), "text": "post"},
        ),
        (
            "edited_channel_post",
            {
                "message_id": 5,
                "date": now,
                "edit_date": now,
                "chat": _tg_chat(-100123, "channel"),
                "text": "post",
            },
        ),
        ("callback_query", _callback(rng, world, user_id, active=False)),
        ("inline_query", {"id": "1", "from": user, "query": _text(rng)[:256], "offset": ""}),
        ("chosen_inline_result", {"result_id": "r", "from": user, "query": "q"}),
    ]


def _payment_and_poll_kinds(user: JSON) -> list[tuple[str, Any]]:
    """Payments through Telegram (which this shop never offers) and polls."""
    return [
        (
            "shipping_query",
            {
                "id": "s",
                "from": user,
                "invoice_payload": "x",
                "shipping_address": {
                    "country_code": "US",
                    "state": "",
                    "city": "c",
                    "street_line1": "s",
                    "street_line2": "",
                    "post_code": "1",
                },
            },
        ),
        (
            "pre_checkout_query",
            {
                "id": "p",
                "from": user,
                "currency": "USD",
                "total_amount": 100,
                "invoice_payload": "x",
            },
        ),
        (
            "poll",
            {
                "id": "p",
                "question": "q?",
                "options": [{"text": "a", "voter_count": 1}],
                "total_voter_count": 1,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
            },
        ),
        ("poll_answer", {"poll_id": "p", "option_ids": [0], "user": user}),
    ]


def _member_kinds(user_id: int, user: JSON, now: int) -> list[tuple[str, Any]]:
    """Membership changes, join requests and reactions."""
    member = {"status": "member", "user": user}
    return [
        (
            "my_chat_member",
            {
                "chat": _tg_chat(user_id),
                "from": user,
                "date": now,
                "old_chat_member": member,
                "new_chat_member": {"status": "kicked", "user": user, "until_date": 0},
            },
        ),
        (
            "chat_member",
            {
                "chat": _tg_chat(-100123, "supergroup"),
                "from": user,
                "date": now,
                "old_chat_member": member,
                "new_chat_member": member,
            },
        ),
        (
            "chat_join_request",
            {
                "chat": _tg_chat(-100123, "supergroup"),
                "from": user,
                "user_chat_id": user_id,
                "date": now,
            },
        ),
        (
            "message_reaction",
            {
                "chat": _tg_chat(user_id),
                "message_id": 1,
                "date": now,
                "user": user,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            },
        ),
    ]


def telegram_update(rng: random.Random, world: World, *, active: bool) -> JSON:
    """An update of any shape; `active` ones make the bot answer (commands, buttons)."""
    user_id = rng.choice(world.buyers) if rng.random() < 0.2 else rng.randint(10**7, 10**9)
    update_id = rng.randint(1, 2**31 - 1)
    if active:
        return _active_update(rng, world, user_id, update_id)
    user = _tg_user(rng, user_id)
    now = int(time.time())
    kinds: list[tuple[str, Any]] = [  # built in this order: each kind draws from rng in turn
        *_message_kinds(rng, world, user_id, user, now),
        *_payment_and_poll_kinds(user),
        *_member_kinds(user_id, user, now),
        ("future_update_kind", {"anything": garbage(rng)}),
    ]
    kind, payload = rng.choice(kinds)
    update: JSON = {"update_id": update_id, kind: payload}
    if rng.random() < 0.05:
        update = {"update_id": update_id}
    return update
