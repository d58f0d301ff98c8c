"""The admin's 🌐 Translations dialog through the Telegram stand-in: an admin writes a product's
texts and its category's name in other languages, sees them ticked, removes them; the rules of
the original fields hold; a non-admin's taps and texts change nothing.

Most tests reach the dialog through a message the bot sends carrying the menu's real
`translations_button(...)` (so a buyer can be handed one too); the first opens it from the
/products card, as a merchant does."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from telegram import InlineKeyboardMarkup

from bot import callbacks as cb
from bot import texts
from bot.admin import translation_texts
from bot.admin.products import translations_button
from bot.app import ShopApp
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from shop import catalog, translations
from shop.i18n import Lang
from storage import translations as stored
from storage.models import ProductKind
from tests.admin_product_steps import button_texts, open_admin_card, product
from tests.conftest import ADMIN_ID, BUYER_ID, app_with
from tests.people import Person, shown
from tests.story import add_product


def _languages(app: ShopApp) -> tuple[Lang, ...]:
    assert app.shop is not None
    return app.shop.languages.offered


def _lang(app: ShopApp, code: str) -> Lang:
    return next(lang for lang in _languages(app) if lang.code == code)


async def _menu(app: ShopApp, telegram: FakeTelegram, chat_id: int, product_id: int) -> FakeMessage:
    """A message with the product's 🌐 Translations button, sent by the bot into the chat."""
    button = translations_button(_lang(app, "en"), product_id)
    sent = await app.application.bot.send_message(
        chat_id, "Product menu", reply_markup=InlineKeyboardMarkup([[button]])
    )
    return next(m for m in telegram.messages(chat_id) if m.message_id == sent.message_id)


async def _texts(app: ShopApp, product_id: int) -> dict[str, tuple[str | None, ...]]:
    """The product's stored translations: (title, description, delivery text) by language."""
    assert app.db is not None
    found = await stored.of_product(app.db.reader, product_id)
    return {code: (t.title, t.description, t.delivery_text) for code, t in found.items()}


async def _category_names(app: ShopApp, language: str) -> dict[str, str]:
    assert app.db is not None
    return await translations.category_names(app.db.reader, language)


async def _answers(
    telegram: FakeTelegram, user: int, message: FakeMessage, datas: list[str]
) -> list[dict[str, Any]]:
    """Tap each of `datas` on `message` as `user` (forged: not necessarily its buttons), and
    the answer each tap got."""
    ids = [
        telegram.user_taps(user, message, data, check_keyboard=False)["callback_query"]["id"]
        for data in datas
    ]
    for _ in range(200):
        by_id = {a["callback_query_id"]: a for a in telegram.answered_callbacks}
        if all(i in by_id for i in ids):
            return [by_id[i] for i in ids]
        await asyncio.sleep(0.05)
    raise AssertionError("some taps were never answered")


async def _tap_answer(
    telegram: FakeTelegram, admin: Person, message: FakeMessage, button: str, expect: str
) -> tuple[FakeMessage, str]:
    """Tap a real button; the page it redraws and the toast it answers with."""
    before = len(telegram.answered_callbacks)
    page = await admin.taps(message, button, expect)
    return page, str(telegram.answered_callbacks[before]["text"])


# --- the admin's story -------------------------------------------------------------------------


async def test_admin_adds_a_spanish_title_sees_it_ticked_and_removes_it(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    product_id = await add_product(app, title="Mug", description="A blue mug.", category="Home")
    menu = await open_admin_card(admin, "Mug")  # /products → Mug: the product's card
    overview = await admin.taps(menu, "🌐 Translations", "Translations of Mug")
    assert overview.message_id == menu.message_id  # in place of the card
    assert "Español: Title — · Description — · Delivery text — · Category —" in shown(overview)
    assert "English:" not in shown(overview)  # the originals' language is not offered
    others = [lang for lang in _languages(app) if lang.code != "en"]
    assert len(others) >= 6
    assert button_texts(overview) == [f"{lang.name} (0/4)" for lang in others] + ["‹ Back"]

    page = await admin.taps(overview, "Español", "Mug in Español")
    assert "Title — not translated: buyers see the original." in shown(page)
    assert not [label for label in button_texts(page) if "Remove" in label]
    prompt = await admin.taps(page, "✏️ Title", "Send the title in Español (1–128 characters")
    assert "Original: Mug\nNow: not translated" in shown(prompt)
    await admin.sends("x" * 129, "the most is 128")  # the original title's own rule
    await admin.sends("Taza\nazul", "Please keep the title on one line.")
    saved = await admin.sends("Taza <azul> & más", "✅ Saved: Title in Español.")
    assert "Title ✓\nTaza <azul> & más" in shown(saved)  # escaped, so it reads as typed
    assert await _texts(app, product_id) == {"es": ("Taza <azul> & más", None, None)}
    assert app.db is not None
    original = await product(app, product_id)
    for_buyer = await translations.localized_one(app.db.reader, original, "es")
    assert (for_buyer.title, for_buyer.description) == ("Taza <azul> & más", "A blue mug.")

    overview = await admin.taps(saved, "‹ Languages", "Translations of Mug")
    assert "Español: Title ✓ · Description — · Delivery text — · Category —" in shown(overview)
    assert f"{_lang(app, 'es').name} (1/4)" in button_texts(overview)
    page = await admin.taps(overview, "Español", "Mug in Español")
    page, toast = await _tap_answer(telegram, admin, page, "🗑 Remove: Title", "Title — not")
    assert toast == "Removed: buyers see the original."
    assert await _texts(app, product_id) == {}
    assert await translations.localized_one(app.db.reader, original, "es") == original
    overview = await admin.taps(page, "‹ Languages", "Español: Title — · Description —")
    card = await admin.taps(overview, "‹ Back", "place 1 of 1")  # the product's admin card
    assert card.message_id == overview.message_id  # in place


async def test_category_name_and_delivery_note_with_skip_and_cancel(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    lamp = await add_product(
        app, title="Lamp", kind=ProductKind.PHYSICAL, category="Home", delivery_text="Ships soon"
    )
    await add_product(app, title="Rug", category="Home")
    brazil = _lang(app, "pt_BR").name
    overview = await admin.taps(await _menu(app, telegram, ADMIN_ID, lamp), "Translations", "Lamp")
    page = await admin.taps(overview, brazil, f"Lamp in {brazil}")
    assert "Note to the buyer — not translated" in shown(page)  # the kind's own name for it
    await admin.taps(page, "✏️ Category", f"Send the category's name in {brazil}")
    await admin.sends("x" * 33, "the most is 32")
    page = await admin.sends("Casa", "Saved: Category")
    assert "Category “Home” ✓\nCasa" in shown(page)
    assert await _category_names(app, "pt_BR") == {"Home": "Casa"}  # Rug's category too

    prompt = await admin.taps(page, "✏️ Note to the buyer", "Original: Ships soon")
    assert "(up to 3,000 characters)" in shown(prompt)
    page = await admin.sends("Envio em breve", "Saved: Note to the buyer")
    assert await _texts(app, lamp) == {"pt_BR": (None, None, "Envio em breve")}

    prompt = await admin.taps(page, "✏️ Description", "Send the description")
    assert "/skip" not in shown(prompt)  # nothing to remove yet
    await admin.sends("/cancel", "Cancelled the translation of Lamp — nothing was changed.")
    await admin.taps(page, "✏️ Description", "Send the description")
    await admin.sends("/skip", "There was no translation to remove; nothing was changed.")

    prompt = await admin.taps(page, "✏️ Note to the buyer", "Now: Envio em breve")
    assert "/skip removes the translation" in shown(prompt)
    page = await admin.sends("/skip", "Removed: Note to the buyer in")
    assert "Note to the buyer — not translated" in shown(page)
    assert await _texts(app, lamp) == {}
    page, toast = await _tap_answer(telegram, admin, page, "🗑 Remove: Category", "Home” —")
    assert toast == "Removed: buyers see the original."
    assert await _category_names(app, "pt_BR") == {}


async def test_a_translation_dialog_takes_over_an_edit_and_gets_the_typed_text(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    mug = await add_product(app, title="Mug", price_minor=999)
    card = await open_admin_card(admin, "Mug")
    fields = await admin.taps(card, "Edit", "What do you want to change?")
    await admin.taps(fields, "Price", "Now: $9.99")
    overview = await admin.taps(await _menu(app, telegram, ADMIN_ID, mug), "Translations", "Mug")
    page = await admin.taps(overview, "Русский", "Mug in Русский")
    prompt = await admin.taps(page, "✏️ Description", "Send the description in Русский")
    assert "Left the edit of Mug unfinished: nothing was changed" in shown(prompt)
    await admin.sends("12.50", "Saved: Description in Русский")  # the translation got it
    assert (await product(app, mug)).price_minor == 999
    assert await _texts(app, mug) == {"ru": (None, "12.50", None)}


async def test_the_longest_texts_fit_the_pages(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    """Translations at each field's limit, emoji counting two: every page stays within
    Telegram's 4,096 (the stand-in refuses more), and a longer text is refused as the original
    would be."""
    title = "🎁" * 64  # 128 UTF-16 units
    mug = await add_product(app, title=title, description="d" * 800, category="c" * 32)
    assert app.shop is not None
    for name, text in (("title", title), ("description", "é" * 800)):
        assert await translations.set_text(app.shop.db, mug, "uk", name, text)
    await translations.set_category_name(app.shop.db, "c" * 32, "uk", "к" * 32)
    overview = await admin.taps(await _menu(app, telegram, ADMIN_ID, mug), "Translations", "🎁")
    page = await admin.taps(overview, "Українська", "Category")
    await admin.taps(page, "✏️ Delivery text", "(up to 3,000 characters)")
    await admin.sends("🎁" * 1501, "the most is 3,000")
    page = await admin.sends("ж" * 3000, "Saved: Delivery text in Українська")
    assert shown(page).count("ж") < 400  # quoted back shortened
    assert await _texts(app, mug) == {"uk": (title, "é" * 800, "ж" * 3000)}
    prompt = await admin.taps(page, "✏️ Delivery text", "Now: жжж")
    assert "/skip removes the translation" in shown(prompt)


async def test_the_admin_reads_the_dialog_in_their_own_locale(
    app: ShopApp, telegram: FakeTelegram, admin: Person
) -> None:
    """The dialog speaks the admin's language (the shipped Russian catalog's words) and writes
    numbers as that language does (context.lang)."""
    mug = await add_product(app, title="Mug")
    seen = max((m.message_id for m in telegram.messages(ADMIN_ID)), default=0)
    telegram.user_sends(ADMIN_ID, "/products", language_code="ru")  # from now on in Russian
    await telegram.wait_for(ADMIN_ID, lambda m: m.message_id > seen and "#1" in shown(m))
    overview = await admin.taps(await _menu(app, telegram, ADMIN_ID, mug), "Translations", "Mug")
    page = await admin.taps(overview, "Español", "Mug")
    prompt = await admin.taps(page, "✏️ Текст товара", "Mug")  # "Delivery text", in Russian
    assert format_decimal(3000, locale="ru") in shown(prompt)
    assert "3,000" not in shown(prompt)


def test_the_buttons_parts_are_the_dialog_s_parts() -> None:
    """The parts a button can name are exactly those the dialog translates, and the texts among
    them are the columns storage translates."""
    assert set(cb.TRANSLATION_PARTS) == {
        *translation_texts.TEXT_PARTS,
        translation_texts.CATEGORY_PART,
    }
    assert tuple(translation_texts.TEXT_PARTS.values()) == stored.TEXT_FIELDS


# --- who may, and what is still there -----------------------------------------------------------


async def test_a_non_admin_tapping_the_buttons_gets_nothing_done(
    app: ShopApp, telegram: FakeTelegram, buyer: Person
) -> None:
    mug = await add_product(app, title="Mug", category="Home")
    assert app.shop is not None
    assert await translations.set_text(app.shop.db, mug, "es", "title", "Taza")
    await translations.set_category_name(app.shop.db, "Home", "es", "Hogar")
    await buyer.sends("/start", "Welcome")
    menu = await _menu(app, telegram, BUYER_ID, mug)  # the real button, in the buyer's chat
    forged = [
        cb.TRANSLATIONS.encode(mug),
        cb.TRANSLATION_LANGUAGE.encode(mug, "es"),
        *(cb.TRANSLATION_EDIT.encode(mug, "es", part) for part in cb.TRANSLATION_PARTS),
        *(cb.TRANSLATION_REMOVE.encode(mug, "es", part) for part in cb.TRANSLATION_PARTS),
    ]
    answers = await _answers(telegram, BUYER_ID, menu, forged)
    refusal = (texts.unknown_button(_lang(app, "en")), True)
    assert [(a["text"], a["show_alert"]) for a in answers] == [refusal] * len(forged)
    await buyer.sends("Hacked", "")  # had a dialog opened, this would be its text
    await buyer.nothing_more()
    assert await _texts(app, mug) == {"es": ("Taza", None, None)}
    assert await _category_names(app, "es") == {"Home": "Hogar"}
    current = next(m for m in telegram.messages(BUYER_ID) if m.message_id == menu.message_id)
    assert current.text == "Product menu" and current.edits == 0


async def test_languages_not_offered_parts_gone_and_products_gone_are_answered(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, admin: Person
) -> None:
    async with app_with(tmp_path, telegram, stripe_api, LANGUAGES="en,es") as app:
        mug = await add_product(app, title="Mug")
        gone = await add_product(app, title="Gone")
        overview = await admin.taps(await _menu(app, telegram, ADMIN_ID, mug), "Transl", "Mug")
        assert [b for b in button_texts(overview)] == ["Español (0/3)", "‹ Back"]
        assert "Category" not in shown(overview)  # Mug has no category
        stale = [
            cb.TRANSLATION_LANGUAGE.encode(mug, "ru"),  # shipped, but this shop does not offer it
            cb.TRANSLATION_EDIT.encode(mug, "ru", "t"),
            cb.TRANSLATION_LANGUAGE.encode(mug, "en"),  # the originals' own language
            cb.TRANSLATION_EDIT.encode(mug, "es", "c"),  # Mug is in no category
            cb.TRANSLATION_REMOVE.encode(mug, "es", "c"),
        ]
        assert app.shop is not None
        await translations.set_text(app.shop.db, gone, "es", "title", "Ido")
        assert await catalog.delete_product(app.shop.db, gone) == "deleted"
        answers = await _answers(
            telegram,
            ADMIN_ID,
            overview,
            [*stale, cb.TRANSLATIONS.encode(gone), cb.TRANSLATION_EDIT.encode(gone, "es", "t")],
        )
        expired = (texts.admin_button_expired(_lang(app, "en")), True)
        gone_answer = ("That product no longer exists.", True)
        assert [(a["text"], a["show_alert"]) for a in answers] == [expired] * len(stale) + [
            gone_answer
        ] * 2
        await admin.nothing_more()
        assert await _texts(app, mug) == {} and await _texts(app, gone) == {}


async def test_a_shop_in_one_language_has_nothing_to_translate(
    tmp_path: Path, telegram: FakeTelegram, stripe_api: FakeStripe, admin: Person
) -> None:
    async with app_with(tmp_path, telegram, stripe_api, LANGUAGES="en") as app:
        mug = await add_product(app, title="Mug")
        overview = await admin.taps(
            await _menu(app, telegram, ADMIN_ID, mug), "Translations", "This shop offers only"
        )
        assert "English" in shown(overview) and "LANGUAGES" in shown(overview)
        assert button_texts(overview) == ["‹ Back"]
        card = await open_admin_card(admin, "Mug")  # the card offers no 🌐 Translations then
        assert not [label for label in button_texts(card) if "Translations" in label]
