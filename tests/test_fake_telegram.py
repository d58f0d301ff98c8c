"""The fake Bot API is only useful if it is as strict as Telegram: prove it with the real SDK.

Every test drives ``sandbox.fake_telegram.FakeTelegram`` through a real ``telegram.Bot`` over
HTTP, so PTB's request encoding and its mapping of error answers to exceptions are exercised.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import json
import warnings
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)

from sandbox.fake_telegram import FakeTelegram

BUYER = 42
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    telegram_api = FakeTelegram()
    await telegram_api.start()
    try:
        yield telegram_api
    finally:
        await telegram_api.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


@pytest.fixture
def buyer(fake: FakeTelegram) -> int:
    """A user who has pressed Start, so the bot may write to them."""
    fake.user_sends(BUYER, "/start")
    return BUYER


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in buttons])


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB settings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB deprecates the int form
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


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


@pytest.mark.parametrize(
    "bad_html",
    [
        "<foo>x</foo>",
        "<b>never closed",
        "closing only</b>",
        "<b><i>crossed</b></i>",
        "1 < 2",
        "Tom & Jerry",
        "&nbsp;",
        "line<br>break",
        "<a>no href</a>",
        '<span class="bold">not a spoiler</span>',
    ],
)
async def test_bad_html_is_rejected(
    bot: Bot, fake: FakeTelegram, buyer: int, bad_html: str
) -> None:
    with pytest.raises(BadRequest, match="(?i)^can't parse entities: "):
        await bot.send_message(buyer, bad_html, parse_mode="HTML")
    assert fake.messages(buyer) == []


async def test_the_same_text_is_fine_without_parse_mode(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    await bot.send_message(buyer, "1 < 2 & <foo>")
    assert fake.messages(buyer)[0].text == "1 < 2 & <foo>"


async def test_escaped_entities_are_decoded(bot: Bot, fake: FakeTelegram, buyer: int) -> None:
    sent = await bot.send_message(buyer, "Tom &amp; Jerry &lt;Deluxe&gt;", parse_mode="HTML")
    assert sent.text == "Tom & Jerry <Deluxe>"
    assert fake.messages(buyer)[0].text == "Tom & Jerry <Deluxe>"
    assert fake.messages(buyer)[0].html == "Tom &amp; Jerry &lt;Deluxe&gt;"
    # html.escape() output (numeric &#x27;) is valid Telegram HTML too.
    await bot.send_message(
        buyer, "<i>" + html.escape("\"Rock 'n' Roll") + "</i>", parse_mode="HTML"
    )
    assert fake.messages(buyer)[1].text == "\"Rock 'n' Roll"


async def test_text_limit_is_4096_utf16_units_after_parsing(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    with pytest.raises(BadRequest, match="^Message is too long$"):
        await bot.send_message(buyer, "x" * 4097)
    with pytest.raises(BadRequest, match="^Message is too long$"):
        await bot.send_message(buyer, "😀" * 2049)  # 2049 characters, 4098 UTF-16 units
    await bot.send_message(buyer, "x" * 4096)
    await bot.send_message(buyer, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # tags are free
    with pytest.raises(BadRequest, match="^Message text is empty$"):
        await bot.send_message(buyer, "<b> </b>", parse_mode="HTML")
    assert len(fake.messages(buyer)) == 2


async def test_caption_limit_is_1024_utf16_units_after_parsing(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    photo = "https://img.example/p.jpg"
    with pytest.raises(BadRequest, match="^Message caption is too long$"):
        await bot.send_photo(buyer, photo, caption="😀" * 513)  # 513 characters, 1026 units
    sent = await bot.send_photo(
        buyer, photo, caption="<b>" + "😀" * 512 + "</b>", parse_mode="HTML"
    )
    with pytest.raises(BadRequest, match="^Message caption is too long$"):
        await bot.edit_message_caption(buyer, sent.message_id, caption="😀" * 512 + "x")
    assert len(fake.messages(buyer)) == 1


async def test_callback_data_is_limited_to_64_bytes(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    with pytest.raises(BadRequest, match="(?i)^button_data_invalid$"):
        await bot.send_message(buyer, "Pick", reply_markup=keyboard(("Buy", "b" * 65)))
    with pytest.raises(BadRequest, match="(?i)^button_data_invalid$"):
        await bot.send_message(buyer, "Pick", reply_markup=keyboard(("Buy", "é" * 33)))  # 66 B
    await bot.send_message(buyer, "Pick", reply_markup=keyboard(("Buy", "b" * 64)))
    assert len(fake.messages(buyer)) == 1


async def test_inline_buttons_need_exactly_one_valid_action(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    with pytest.raises(BadRequest, match="(?i)text buttons are unallowed"):
        await bot.send_message(
            buyer, "Pick", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Buy")]])
        )
    schemeless = InlineKeyboardButton("Pay", url="checkout.stripe.com/c/pay/cs_test_1")
    with pytest.raises(BadRequest, match="(?i)^button_url_invalid$"):
        await bot.send_message(buyer, "Pay", reply_markup=InlineKeyboardMarkup([[schemeless]]))
    too_many = InlineKeyboardMarkup(
        [[InlineKeyboardButton(str(i), callback_data=str(i))] for i in range(101)]
    )
    with pytest.raises(BadRequest, match="(?i)reply markup is too long"):
        await bot.send_message(buyer, "Pick", reply_markup=too_many)
    pay = InlineKeyboardButton("Pay", url="https://checkout.stripe.com/c/pay/cs_test_1")
    await bot.send_message(buyer, "Pay", reply_markup=InlineKeyboardMarkup([[pay]]))
    assert fake.messages(buyer)[0].button("Pay")["url"].startswith("https://")


async def test_edit_not_modified_and_keyboard_removal(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    markup = keyboard(("Pay", "pay:1"))
    sent = await bot.send_message(buyer, "<b>Cart</b>", parse_mode="HTML", reply_markup=markup)
    mid = sent.message_id
    with pytest.raises(BadRequest, match="^Message is not modified"):
        await bot.edit_message_text(
            "<b>Cart</b>", parse_mode="HTML", reply_markup=markup, chat_id=buyer, message_id=mid
        )
    with pytest.raises(BadRequest, match="^Message is not modified"):  # same entities
        await bot.edit_message_text(
            "<strong>Cart</strong>",
            parse_mode="HTML",
            reply_markup=markup,
            chat_id=buyer,
            message_id=mid,
        )
    with pytest.raises(BadRequest, match="^Message is not modified"):
        await bot.edit_message_reply_markup(reply_markup=markup, chat_id=buyer, message_id=mid)
    # Leaving out reply_markup removes the keyboard: that *is* a modification.
    edited = await bot.edit_message_text(
        "<b>Cart</b>", parse_mode="HTML", chat_id=buyer, message_id=mid
    )
    assert isinstance(edited, type(sent)) and edited.reply_markup is None
    [stored] = fake.messages(buyer)
    assert (stored.edits, stored.buttons()) == (1, [])


async def test_edit_targets_must_exist_and_match_the_kind(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    text = await bot.send_message(buyer, "Receipt")
    photo = await bot.send_photo(buyer, PNG, caption="Tea")
    with pytest.raises(BadRequest, match="^Message to edit not found$"):
        await bot.edit_message_text("x", chat_id=buyer, message_id=999)
    with pytest.raises(BadRequest, match="^There is no text in the message to edit$"):
        await bot.edit_message_text("x", chat_id=buyer, message_id=photo.message_id)
    with pytest.raises(BadRequest, match="^There is no caption in the message to edit$"):
        await bot.edit_message_caption(chat_id=buyer, message_id=text.message_id, caption="x")
    edited = await bot.edit_message_caption(
        chat_id=buyer, message_id=photo.message_id, caption="Green tea"
    )
    assert not isinstance(edited, bool) and edited.caption == "Green tea"
    assert await bot.delete_message(buyer, text.message_id)
    with pytest.raises(BadRequest, match="^Message to edit not found$"):
        await bot.edit_message_text("x", chat_id=buyer, message_id=text.message_id)
    with pytest.raises(BadRequest, match="^Message to delete not found$"):
        await bot.delete_message(buyer, text.message_id)
    assert [m.deleted for m in fake.messages(buyer)] == [True, False]


async def test_files_uploads_file_ids_and_captions(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    sent = await bot.send_photo(buyer, PNG, caption="<b>Tea</b> &amp; cake", parse_mode="HTML")
    assert sent.caption == "Tea & cake"
    file_id = sent.photo[-1].file_id
    assert fake.messages(buyer)[0].photo == file_id
    assert (await bot.send_photo(buyer, file_id)).photo[-1].file_id == file_id  # reuse works
    with pytest.raises(BadRequest, match="(?i)^wrong file identifier/http url specified$"):
        await bot.send_photo(buyer, "AgACmadeUpFileId")
    with pytest.raises(BadRequest, match="^Type of file mismatch$"):
        await bot.send_document(buyer, file_id)
    with pytest.raises(BadRequest, match="^Message caption is too long$"):
        await bot.send_photo(buyer, file_id, caption="x" * 1025)
    doc = await bot.send_document(buyer, b"%PDF-1.4 invoice", filename="invoice.pdf")
    assert doc.document is not None and doc.document.file_name == "invoice.pdf"
    assert len(fake.messages(buyer)) == 3


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


async def test_get_updates_long_polls_until_a_user_writes(bot: Bot, fake: FakeTelegram) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()  # really waiting, not returning an empty list at once
    queued = fake.user_sends(BUYER, "/start ref_7", first_name="Ann")
    updates = await asyncio.wait_for(poll, 2)
    [update] = updates
    assert update.update_id == queued["update_id"]
    assert update.message is not None and update.effective_chat is not None
    assert (update.message.text, update.effective_chat.id) == ("/start ref_7", BUYER)
    assert update.message.parse_entities(["bot_command"]) != {}
    assert list(update.message.parse_entities(["bot_command"]).values()) == ["/start"]
    # Confirming via offset removes it; a webhook-only update is never queued.
    fake.user_sends(BUYER, "not queued", queue=False)
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()


async def test_a_second_poller_terminates_the_first(bot: Bot, fake: FakeTelegram) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(fake.token, base_url=fake.base_url) as other_instance:
        second = asyncio.create_task(other_instance.get_updates(timeout=0))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(first, 2)
        assert await second == ()


async def test_user_taps_builds_callbacks_for_existing_buttons(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    sent = await bot.send_message(buyer, "Pick", reply_markup=keyboard(("Tea", "buy:tea")))
    [message] = fake.messages(buyer)
    tap = fake.user_taps(buyer, message, "buy:tea")
    updates = await bot.get_updates(timeout=0)
    query = updates[-1].callback_query
    assert query is not None and query.message is not None
    assert (query.id, query.data, query.from_user.id) == (
        tap["callback_query"]["id"],
        "buy:tea",
        buyer,
    )
    assert query.message.message_id == sent.message_id
    with pytest.raises(AssertionError, match="no button with callback_data 'buy:coffee'"):
        fake.user_taps(buyer, message, "buy:coffee")
    await bot.edit_message_reply_markup(buyer, sent.message_id, reply_markup=None)
    with pytest.raises(AssertionError):
        fake.user_taps(buyer, message, "buy:tea")  # the keyboard is gone
    fake.user_sends(BUYER + 1, "/start")
    with pytest.raises(AssertionError, match="cannot see chat"):
        fake.user_taps(BUYER + 1, message, "buy:tea")
    # A modified client can forge any callback_data; the bot must cope with that.
    forged = fake.user_taps(BUYER + 1, message, "buy:tea", check_keyboard=False)
    assert forged["callback_query"]["from"]["id"] == BUYER + 1


async def test_callback_query_is_answered_at_most_once(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    await bot.send_message(buyer, "Pick", reply_markup=keyboard(("Tea", "buy:tea")))
    query_id = fake.user_taps(buyer, fake.messages(buyer)[0], "buy:tea")["callback_query"]["id"]
    with pytest.raises(BadRequest, match="(?i)^message_too_long$"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.answer_callback_query(query_id, text="Added to cart")
    with pytest.raises(BadRequest, match="^Query is too old and response timeout expired"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="^Query is too old and response timeout expired"):
        await bot.answer_callback_query("1234567")
    assert [(a["callback_query_id"], a["text"]) for a in fake.answered_callbacks] == [
        (query_id, "Added to cart")
    ]


async def test_webhook_rules_and_conflict_with_polling(bot: Bot, fake: FakeTelegram) -> None:
    url = "https://shop.example/telegram/webhook"
    with pytest.raises(BadRequest, match="(?i)an https url must be provided for webhook"):
        await bot.set_webhook("http://shop.example/telegram/webhook")
    with pytest.raises(BadRequest, match="^Secret token contains unallowed characters$"):
        await bot.set_webhook(url, secret_token=fake.token)  # ':' is not allowed
    assert fake.webhook is None
    assert await bot.set_webhook(url, secret_token="s3cr3t_-", allowed_updates=["message"])
    assert fake.webhook is not None
    assert (fake.webhook["url"], fake.webhook["secret_token"]) == (url, "s3cr3t_-")
    assert fake.webhook["allowed_updates"] == ["message"]
    assert (await bot.get_webhook_info()).url == url
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert fake.webhook is None
    assert await bot.get_updates(timeout=0) == ()


async def test_set_my_commands_is_recorded_per_scope(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    await bot.set_my_commands(
        [BotCommand("start", "Open the shop"), BotCommand("orders", "My orders")]
    )
    await bot.set_my_commands(
        [BotCommand("refund", "Refund an order")],
        scope=BotCommandScopeChat(buyer),
        language_code="de",
    )
    assert fake.commands == {
        "default": [
            {"command": "start", "description": "Open the shop"},
            {"command": "orders", "description": "My orders"},
        ],
        f"chat:{buyer}/de": [{"command": "refund", "description": "Refund an order"}],
    }
    mine = await bot.get_my_commands(scope=BotCommandScopeChat(buyer), language_code="de")
    assert [c.command for c in mine] == ["refund"]
    with pytest.raises(BadRequest, match="(?i)^bot_command_invalid$"):
        await bot.set_my_commands([BotCommand("myOrders", "camelCase is not allowed")])
    with pytest.raises(BadRequest, match="^Chat not found$"):
        await bot.set_my_commands([BotCommand("x", "y")], scope=BotCommandScopeChat(999))
    await bot.delete_my_commands()
    assert list(fake.commands) == [f"chat:{buyer}/de"]


async def test_wait_for_sees_messages_sent_later(bot: Bot, fake: FakeTelegram, buyer: int) -> None:
    async def deliver_later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(buyer, "Payment received")

    task = asyncio.create_task(deliver_later())
    found = await fake.wait_for(buyer, lambda m: m.text == "Payment received", timeout=3)
    await task
    assert found.text == "Payment received"
    with pytest.raises(AssertionError, match="matched within"):
        await fake.wait_for(buyer, lambda m: m.text == "never", timeout=0.2)


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
