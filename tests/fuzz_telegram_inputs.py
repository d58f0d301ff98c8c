"""The webhook fuzzer's Telegram requests: updates of every shape (messages, commands, taps on
real and forged buttons), with the right secret token, a wrong one, or none."""

from __future__ import annotations

import json
import random
import string
import time
from typing import Any

from tests.conftest import ADMIN_ID
from tests.fuzz_garbage import _hex, _loads, _text, deep_json, garbage, mutate
from tests.fuzz_requests import JSON, TG_HEADER, TG_SECRET, Req, World
from tests.fuzz_stripe_inputs import _garbage_body, _huge_body

# --------------------------------------------------------------------------- Telegram inputs


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


def telegram_update(rng: random.Random, world: World, *, active: bool) -> JSON:
    """An update of any shape; `active` ones make the bot answer (commands, buttons)."""
    user_id = rng.choice(world.buyers) if rng.random() < 0.2 else rng.randint(10**7, 10**9)
    update_id = rng.randint(1, 2**31 - 1)
    if active:
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
    user = _tg_user(rng, user_id)
    now = int(time.time())
    member = {"status": "member", "user": user}
    kinds: list[tuple[str, Any]] = [
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
        ("future_update_kind", {"anything": garbage(rng)}),
    ]
    kind, payload = rng.choice(kinds)
    update: JSON = {"update_id": update_id, kind: payload}
    if rng.random() < 0.05:
        update = {"update_id": update_id}
    return update


def _wrong_secret(rng: random.Random) -> list[tuple[str, str]]:
    choice = rng.randrange(10)
    if choice == 0:
        return []
    if choice == 1:
        return [(TG_HEADER, "")]
    if choice == 2:
        return [(TG_HEADER, TG_SECRET[:-1])]
    if choice == 3:
        return [(TG_HEADER, TG_SECRET + "x")]
    if choice == 4:
        return [(TG_HEADER, TG_SECRET.upper())]
    if choice == 5:  # (padding with spaces would not do: HTTP strips them, rightly)
        return [(TG_HEADER, TG_SECRET[::-1])]
    if choice == 6:
        return [(TG_HEADER, "whsec_fake_secret")]
    if choice == 7:
        return [(TG_HEADER, "wrong"), (TG_HEADER, TG_SECRET)]
    if choice == 8:
        return [("X-Telegram-Bot-Api-Secret", TG_SECRET)]  # a near-miss header name
    return [
        (
            TG_HEADER,
            "".join(rng.choice(string.ascii_letters + "-_") for _ in range(rng.randint(1, 200))),
        )
    ]


def telegram_unsigned(rng: random.Random, world: World) -> Req:
    """Wrong or missing secret → 403; the right secret with a body that is not an update →
    400 (413 when huge). Neither may change anything."""
    if rng.random() < 0.6:
        roll = rng.random()
        if roll < 0.7:
            label = "update"
            update = telegram_update(rng, world, active=rng.random() < 0.5)
            body = json.dumps(mutate(update, rng, rng.randint(0, 2))).encode(
                "utf-8", "surrogatepass"
            )
        elif roll < 0.9:
            label, body = _garbage_body(rng)
        else:
            label, body = "huge", _huge_body(rng)
        if rng.random() < 0.04:
            value = rng.choice([b"\xff\xfe", TG_SECRET.encode() + b"\xff", b"\x80" + b"a" * 10])
            raw = TG_HEADER.encode() + b": " + value + b"\r\n"
            return Req(
                "telegram_unsigned",
                "raw-secret",
                "/telegram/webhook",
                body,
                raw_headers=raw,
                expect=frozenset({403}),
            )
        return Req(
            "telegram_unsigned",
            f"wrong-secret-{label}",
            "/telegram/webhook",
            body,
            tuple(_wrong_secret(rng)),
            expect=frozenset({403}),
        )
    roll = rng.random()
    expect = frozenset({400})
    if roll < 0.25:
        label = "truncated"
        full = json.dumps(telegram_update(rng, world, active=False)).encode(
            "utf-8", "surrogatepass"
        )
        body = full[: rng.randint(0, len(full) - 1)]
    elif roll < 0.5:
        label, body = _garbage_body(rng)
        if label == "json-scalar" and isinstance(_loads(body), dict):
            body = b"[]"
    elif roll < 0.75:
        label = "no-update-id"
        update = telegram_update(rng, world, active=False)
        update["update_id"] = rng.choice([None, "1", 1.5, [], {}, -(10**30) + 0.5])
        if rng.random() < 0.3:
            del update["update_id"]
        body = json.dumps(update).encode("utf-8", "surrogatepass")
    elif roll < 0.95:
        label, body = "huge", _huge_body(rng)
        expect = frozenset({413})
    else:
        label, body = "deep", deep_json(rng)
    return Req(
        "telegram_unsigned",
        f"right-secret-{label}",
        "/telegram/webhook",
        body,
        ((TG_HEADER, TG_SECRET),),
        expect=expect,
    )


def telegram_signed(rng: random.Random, world: World) -> Req:
    """The right secret and an update of any shape, mangled or not: 200 or 400, never 5xx."""
    active = rng.random() < 0.1
    update = telegram_update(rng, world, active=active)
    if not active:
        update = mutate(update, rng, rng.choice([0, 1, 1, 2, 3]))
    headers: tuple[tuple[str, str], ...] = ((TG_HEADER, TG_SECRET),)
    if rng.random() < 0.03:  # the right secret first, a wrong one after it
        headers = ((TG_HEADER, TG_SECRET), (TG_HEADER, "wrong"))
    return Req(
        "telegram_signed",
        "active" if active else "update",
        "/telegram/webhook",
        json.dumps(update).encode("utf-8", "surrogatepass"),
        headers,
    )
