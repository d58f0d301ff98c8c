"""Bot API methods answer as Telegram does: who may be written to, injected faults, rate limits,
and errors in the Bot API's own format, as PTB maps them.
"""

from __future__ import annotations

import json

import aiohttp
import pytest
from telegram import Bot
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from sandbox.fake_telegram import FakeTelegram
from tests.telegram_standin.helpers import BUYER, keyboard, retry_seconds


async def test_get_me_describes_the_bot(bot: Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (fake.bot_id, "shop_test_bot", True)
    assert bot.username == fake.bot_username  # `async with` initialised the bot via getMe
    assert [c.status for c in fake.calls_of("getme")] == [200, 200]


async def test_send_to_started_chat_is_recorded(bot: Bot, fake: FakeTelegram, buyer: int) -> None:
    sent = await bot.send_message(
        buyer, "<b>Welcome</b>", parse_mode="HTML", reply_markup=keyboard(("Catalog", "cat"))
    )
    assert (sent.chat.id, sent.text, sent.entities[0].type) == (buyer, "Welcome", "bold")
    assert sent.from_user is not None and sent.from_user.id == fake.bot_id
    assert sent.reply_markup == keyboard(("Catalog", "cat"))
    [stored] = fake.messages(buyer)
    assert (stored.message_id, stored.text, stored.html) == (
        sent.message_id,
        "Welcome",
        sent.text_html,
    )
    assert stored.button("Catalog")["callback_data"] == "cat"
    [call] = fake.calls_of("sendMessage")
    assert call.status == 200
    assert call.params["chat_id"] == buyer  # PTB sent "42"; the fake decodes it
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Catalog", "callback_data": "cat"}]]
    }


async def test_unknown_chat_is_chat_not_found(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match="^Chat not found$"):
        await bot.send_message(777, "hello stranger")
    with pytest.raises(BadRequest, match="^Chat not found$"):
        await bot.send_chat_action(777, "typing")
    assert fake.messages(777) == []
    assert [c.status for c in fake.calls_of("sendMessage")] == [400]


async def test_blocked_user_is_forbidden(bot: Bot, fake: FakeTelegram, buyer: int) -> None:
    fake.block(buyer)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(buyer, "your order shipped")
    fake.unblock(buyer)
    await bot.send_message(buyer, "your order shipped")
    assert [m.text for m in fake.messages(buyer)] == ["your order shipped"]
    assert [c.status for c in fake.calls_of("sendMessage")] == [403, 200]


@pytest.mark.filterwarnings("ignore:.*retry_after")
async def test_fail_next_injects_flood_control_and_gateway_errors(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    fake.fail_next("sendMessage", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(buyer, "hi")
    assert retry_seconds(caught.value) == 7
    assert fake.messages(buyer) == []  # nothing happened
    fake.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="^Bad Gateway$") as gateway:
        await bot.send_message(buyer, "hi")
    assert type(gateway.value) is NetworkError
    await bot.send_message(buyer, "hi")
    assert [c.status for c in fake.calls_of("sendMessage")] == [429, 502, 200]
    assert fake.calls_of("sendMessage")[0].response["parameters"] == {"retry_after": 7}
    fake.fail_next("sendMessage", times=1000, status=503)
    fake.fail_next("sendMessage", times=0)  # replaces the pending failures: outage over
    await bot.send_message(buyer, "hi")
    fake.down = True
    with pytest.raises(NetworkError, match="^Bad Gateway$"):
        await bot.get_me()


@pytest.mark.filterwarnings("ignore:.*retry_after")
async def test_rate_limit_answers_429_beyond_the_budget(fake: FakeTelegram, buyer: int) -> None:
    fake.rate_limit_per_second = 2
    async with Bot(fake.token, base_url=fake.base_url) as limited:
        await limited.send_message(buyer, "1")
        await limited.send_message(buyer, "2")
        with pytest.raises(RetryAfter) as caught:
            await limited.send_message(buyer, "3")
    assert retry_seconds(caught.value) == 1
    assert fake.rate_limited == 1
    assert [m.text for m in fake.messages(buyer)] == ["1", "2"]


async def test_transport_errors_use_the_bot_api_format(fake: FakeTelegram, buyer: int) -> None:
    base = f"{fake.base_url}{fake.token}"
    async with aiohttp.ClientSession() as http:
        # JSON bodies and case-insensitive method names are accepted, like on Telegram.
        async with http.post(
            f"{base}/SENDMESSAGE", json={"chat_id": buyer, "text": "<x>", "parse_mode": "HTML"}
        ) as r:
            assert r.status == 400
            assert await r.json() == {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: can't parse entities: "
                'Unsupported start tag "x" at byte offset 0',
            }
        async with http.get(f"{base}/getMe") as r:
            body = await r.json()
            assert (r.status, body["ok"], body["result"]["is_bot"]) == (200, True, True)
        async with http.get(f"{fake.base_url}123456:WRONG/getMe") as r:
            assert (r.status, await r.json()) == (
                401,
                {"ok": False, "error_code": 401, "description": "Unauthorized"},
            )
        async with http.post(f"{base}/sendSticker", data={"chat_id": str(buyer)}) as r:
            assert (r.status, json.loads(await r.text())["description"]) == (404, "Not Found")
    assert fake.calls_of("sendMessage")[0].method == "sendMessage"
    assert fake.calls_of("sendMessage")[0].params["parse_mode"] == "HTML"


async def test_sdk_maps_token_and_method_errors(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("123456:WRONG-token", base_url=fake.base_url):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendUnicorn", api_kwargs={"chat_id": BUYER})
