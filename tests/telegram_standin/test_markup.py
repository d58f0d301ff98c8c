"""Markup and entities are as strict as Telegram's: HTML parsing, text and caption limits, inline
buttons, edits and files.
"""

from __future__ import annotations

import html

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from sandbox.fake_telegram import FakeTelegram
from tests.telegram_standin.helpers import PNG, keyboard


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
