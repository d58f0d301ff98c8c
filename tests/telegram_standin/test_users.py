"""Simulated users and the ways updates reach the bot: long polling, taps on buttons, callback
answers, webhooks, command menus and waiting for what the bot sends.
"""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import BadRequest, Conflict

from sandbox.fake_telegram import FakeTelegram
from tests.telegram_standin.helpers import BUYER, keyboard


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


async def test_a_callback_query_answered_too_late_is_refused(
    bot: Bot, fake: FakeTelegram, buyer: int
) -> None:
    await bot.send_message(buyer, "Pick", reply_markup=keyboard(("Tea", "buy:tea")))
    fake.callback_answer_seconds = 0.2
    query_id = fake.user_taps(buyer, fake.messages(buyer)[0], "buy:tea")["callback_query"]["id"]
    await asyncio.sleep(0.3)
    with pytest.raises(BadRequest, match="^Query is too old and response timeout expired"):
        await bot.answer_callback_query(query_id)
    assert fake.answered_callbacks == []
