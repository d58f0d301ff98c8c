"""The merchant's side in the merchant's language (issue 14): an admin whose Telegram speaks
Spanish, or who chose Spanish, reads the admin texts, money and dates in Spanish — in their own
updates, in a dialog's timeout (a job, outside any update) and in the sale alerts the outbox
sends later; the command menu is registered per offered language under the two-letter codes
Telegram takes.

Until the shipped catalogs are translated these stories use a small catalog of their own (a
few admin sentences in Spanish and two Portuguese variants, compiled at test time), so what is
checked is the mechanism: the words come from the admin's catalog, money and dates from their
locale (Babel computes the expected amounts), and refusals worded in shop/ follow too.
"""

from __future__ import annotations

import dataclasses
import gettext
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.numbers import format_currency
from telegram import BotCommand
from telegram.error import BadRequest

from bot.admin import dialog
from bot.app import ShopApp
from bot.commands import ADMIN_COMMANDS, BUYER_COMMANDS, command_languages
from sandbox.fake_stripe import FakeStripe
from sandbox.fake_telegram import FakeMessage, FakeTelegram
from shop.i18n import Lang, Languages
from shop.money import MoneyError
from shop.refunds import whole_order_only
from shop.typed_money import parse_amount, parse_price
from storage import languages
from storage.models import Rail
from tests.conftest import ADMIN_ID, BUYER_ID, settings_for, start_app
from tests.people import Person, shown
from tests.shop_records import order_record
from tests.story import add_product, buy, checkout, open_card, paid_event, session_of, settled

Messages = Mapping[str | tuple[str, ...], str | tuple[str, ...]]  # msgid → its translation

SALES_HEAD = "📊 <b>Sales</b> · as of {moment}"
NEW_SALE = (
    "💰 <b>New sale</b> — order #{order}\n{bought}{charge}\n"
    "Buyer: {buyer} (id <code>{buyer_id}</code>)"
)
NEEDS_ATTENTION = "⚠️ <b>Order #{order} needs attention</b>\n{detail}"
CLOSED = (
    "⌛ No answer for {waited}, so I closed the new product (/addproduct) — nothing was saved. "
    "Start again whenever you like."
)
ES: Messages = {
    SALES_HEAD: "📊 <b>Ventas</b> · a fecha de {moment}",
    NEW_SALE: (
        "💰 <b>Nueva venta</b> — pedido #{order}\n{bought}{charge}\n"
        "Comprador: {buyer} (id <code>{buyer_id}</code>)"
    ),
    NEEDS_ATTENTION: "⚠️ <b>El pedido #{order} necesita tu atención</b>\n{detail}",
    CLOSED: (
        "⌛ Sin respuesta en {waited}, así que cerré el producto nuevo (/addproduct): no se "
        "guardó nada. Empieza de nuevo cuando quieras."
    ),
    ("{n} second", "{n} seconds"): ("{n} segundo", "{n} de segundos", "{n} segundos"),
    (
        "That title has {n} character; the most is {most}.",
        "That title has {n} characters; the most is {most}.",
    ): (
        "El título tiene {n} carácter; el máximo es {most}.",
        "El título tiene {n} de caracteres; el máximo es {most}.",
        "El título tiene {n} caracteres; el máximo es {most}.",
    ),
    "Send the title again, or /cancel.": "Envía el título otra vez, o /cancel.",
    "Welcome and main menu": "Bienvenida y menú principal",
    "Add a product, step by step": "Añadir un producto, paso a paso",
    "Choose your language": "Elige tu idioma",
}
PT_BR: Messages = {"Welcome and main menu": "Boas-vindas e menu principal"}
PT_PT: Messages = {"Welcome and main menu": "Boas-vindas e menu inicial"}
OFFERED = ("en", "es", "pt_BR", "pt_PT")


def write_catalog(directory: Path, code: str, messages: Messages) -> None:
    """A compiled catalog for `code` under `directory`, as `make catalogs` lays them out."""
    catalog = Catalog(locale=code, domain="messages")
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr)
    folder = directory / code / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as file:
        write_mo(file, catalog)


@pytest.fixture
def catalogs(tmp_path: Path) -> Path:
    directory = tmp_path / "locales"
    write_catalog(directory, "es", ES)
    write_catalog(directory, "pt_BR", PT_BR)
    write_catalog(directory, "pt_PT", PT_PT)
    return directory


@pytest.fixture
async def app(
    tmp_path: Path, catalogs: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> AsyncIterator[ShopApp]:
    """The shop offering English, Spanish and both Portuguese, from the catalogs above."""
    settings = dataclasses.replace(
        settings_for(tmp_path, telegram, stripe_api), languages=OFFERED, catalog_dir=catalogs
    )
    shop_app = await start_app(settings, telegram, stripe_api)
    yield shop_app
    await shop_app.stop()


def spanish(app: ShopApp) -> Lang:
    assert app.shop is not None
    return app.shop.languages.get("es")


async def in_spanish(telegram: FakeTelegram, text: str, expect: str) -> FakeMessage:
    """The admin, their Telegram app set to Spanish, sends `text`; the bot's fresh answer
    that contains `expect`."""
    last = max((m.message_id for m in telegram.messages(ADMIN_ID)), default=0)
    telegram.user_sends(ADMIN_ID, text, language_code="es")
    return await telegram.wait_for(
        ADMIN_ID, lambda m: m.message_id > last and expect in shown(m), timeout=5
    )


def tap_in_spanish(telegram: FakeTelegram, message: FakeMessage, data_ends: str) -> None:
    data = next(
        str(b["callback_data"])
        for b in message.buttons()
        if str(b.get("callback_data", "")).endswith(data_ends)
    )
    telegram.user_taps(ADMIN_ID, message, data)


async def test_an_admin_whose_telegram_speaks_spanish_reads_the_admin_texts_in_spanish(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    sales = await in_spanish(telegram, "/sales", "Ventas")
    assert "as of" not in shown(sales) and "Sales" not in shown(sales)
    assert " UTC" in shown(sales)  # the moment in the admin's locale, the zone spelled out

    await in_spanish(telegram, "/addproduct", "/cancel")
    refused = await in_spanish(telegram, "x" * 200, "El título tiene")
    assert "El título tiene 200 caracteres; el máximo es 128." in shown(refused)
    assert "Envía el título otra vez, o /cancel." in shown(refused)

    await in_spanish(telegram, "Taza", "/skip")  # the description, in English until translated
    await in_spanish(telegram, "/skip", "/skip")
    kinds = await in_spanish(telegram, "/skip", "📦")
    last = kinds.message_id
    tap_in_spanish(telegram, kinds, ":physical")
    rails = await telegram.wait_for(
        ADMIN_ID, lambda m: m.message_id > last and any(m.buttons()), timeout=5
    )
    tap_in_spanish(telegram, rails, ":stripe")
    await telegram.wait_for(ADMIN_ID, lambda m: "<code>9.99</code>" in (m.html or ""))
    # A refusal worded in shop/typed_money.py, with the minimum in the admin's locale.
    minimum = format_currency(Decimal("0.50"), "EUR", locale="es")
    refused = await in_spanish(telegram, "0.30 eur", minimum)
    assert "€0.50" not in shown(refused)


async def test_a_sale_alert_speaks_the_language_the_admin_chose(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """The admin's app says English (start_app's /help), but they chose Spanish with
    /language: the alert the outbox sends later is in Spanish, with Spanish money."""
    assert app.db is not None
    async with app.db.transaction() as tx:
        await languages.choose(tx, ADMIN_ID, "es")
    product_id = await add_product(app, title="Mug", price_minor=999)
    pay_message = await buy(telegram, BUYER_ID, await open_card(telegram, BUYER_ID, product_id))
    assert (await stripe_api.deliver(paid_event(stripe_api, session_of(stripe_api, pay_message))))[
        0
    ] == 200
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "Nueva venta" in shown(m), timeout=10)
    assert "Comprador:" in shown(alert) and "New sale" not in shown(alert)
    assert format_currency(Decimal("9.99"), "USD", locale="es") in shown(alert)
    assert "$9.99" not in shown(alert)
    await settled(app)


async def test_a_problem_alert_speaks_the_admin_s_language_too(
    app: ShopApp, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """An alert the outbox sends about a payment that did not match: the frame is in the
    admin's language; the detail is shown as it was written when it happened."""
    assert app.db is not None
    async with app.db.transaction() as tx:
        await languages.choose(tx, ADMIN_ID, "es")
    _, session_id = await checkout(app, telegram, stripe_api, BUYER_ID, price_minor=999)
    event = paid_event(stripe_api, session_id)
    event["data"]["object"]["amount_total"] = 100
    assert (await stripe_api.deliver(event))[0] == 200
    alert = await telegram.wait_for(ADMIN_ID, lambda m: "necesita tu atención" in shown(m))
    assert "needs attention" not in shown(alert) and "$9.99" in shown(alert)
    await settled(app)


async def test_a_dialog_that_times_out_says_so_in_the_admin_s_language(
    tmp_path: Path,
    catalogs: Path,
    telegram: FakeTelegram,
    stripe_api: FakeStripe,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The timeout runs later, with the context of the dialog's last step; an admin who chose
    another language since (/language, mid-dialog) reads the closing in that one."""
    monkeypatch.setattr(dialog, "DIALOG_TIMEOUT", 1.0)
    settings = dataclasses.replace(
        settings_for(tmp_path, telegram, stripe_api), languages=OFFERED, catalog_dir=catalogs
    )
    app = await start_app(settings, telegram, stripe_api)
    try:
        admin = Person(telegram, ADMIN_ID)  # their Telegram app is in English
        await admin.sends("/addproduct", "Send the title")
        await admin.sends("Forgotten", "description")
        assert app.db is not None
        async with app.db.transaction() as tx:
            await languages.choose(tx, ADMIN_ID, "es")
        closed = await telegram.wait_for(
            ADMIN_ID, lambda m: "/addproduct" in shown(m) and "⌛" in shown(m), timeout=5
        )
        assert "Sin respuesta en 1 segundo, así que cerré el producto nuevo" in shown(closed)
    finally:
        await app.stop()


async def test_the_command_menu_is_registered_once_per_language_code(
    tmp_path: Path, catalogs: Path, telegram: FakeTelegram, stripe_api: FakeStripe
) -> None:
    """DEFAULT_LANGUAGE's words without a code; then each offered language under its ISO
    639-1 code (pt_BR and pt_PT are both "pt": the first offered wins), for buyers and in the
    admin's chat alike."""
    settings = dataclasses.replace(
        settings_for(tmp_path, telegram, stripe_api),
        languages=OFFERED,
        default_language="es",
        catalog_dir=catalogs,
    )
    app = await start_app(settings, telegram, stripe_api)
    try:
        admin = f"chat:{ADMIN_ID}"
        registered = set(telegram.commands)
        assert registered == {
            f"{scope}{code}" for scope in ("default", admin) for code in ("", "/en", "/es", "/pt")
        }
        calls = telegram.calls_of("setMyCommands")
        assert len(calls) == 8
        codes = [call.params.get("language_code") for call in calls]
        assert sorted(code or "" for code in codes) == ["", "", "en", "en", "es", "es", "pt", "pt"]

        def description(key: str, command: str) -> str:
            return next(c["description"] for c in telegram.commands[key] if c["command"] == command)

        assert description("default", "start") == "Bienvenida y menú principal"  # the default
        assert description("default/en", "start") == BUYER_COMMANDS["start"]
        assert description("default/es", "start") == "Bienvenida y menú principal"
        assert description("default/pt", "start") == "Boas-vindas e menu principal"  # pt_BR's
        assert description(admin, "addproduct") == "Añadir un producto, paso a paso"
        assert description(f"{admin}/en", "addproduct") == ADMIN_COMMANDS["addproduct"]
        assert description(f"{admin}/pt", "language") == ADMIN_COMMANDS["language"]
        for key in registered:
            assert description(key, "language")
            assert "addproduct" not in {c["command"] for c in telegram.commands[key]} or (
                key.startswith(admin)
            )
    finally:
        await app.stop()


async def test_telegram_refuses_a_language_code_that_is_not_two_lowercase_letters(
    app: ShopApp, telegram: FakeTelegram
) -> None:
    bot = app.application.bot
    for code in ("pt_BR", "pt-BR", "EN", "fil"):
        with pytest.raises(BadRequest, match="(?i)invalid language code"):
            await bot.set_my_commands([BotCommand("start", "Start")], language_code=code)
    assert await bot.set_my_commands([BotCommand("start", "Start")], language_code="pt")


def test_languages_without_a_two_letter_code_are_left_to_the_default_registration() -> None:
    def lang(code: str) -> Lang:
        return Lang(code, gettext.NullTranslations())

    offered = (lang("en"), lang("pt_BR"), lang("pt_PT"), lang("fil"), lang("es_419"))
    chosen = command_languages(offered)
    assert {code: found.code for code, found in chosen.items()} == {
        "en": "en",
        "pt": "pt_BR",
        "es": "es_419",
    }


def test_command_descriptions_fit_telegram_s_limits() -> None:
    for table in (BUYER_COMMANDS, ADMIN_COMMANDS):
        for description in table.values():
            assert 1 <= len(description) <= 256


def test_refusals_worded_in_shop_follow_the_reader_s_language(catalogs: Path) -> None:
    """A price refused in shop/typed_money.py or a refund refused in shop/refunds.py: the
    sentence is the catalog's, the amounts the locale's; str() stays English for the logs."""
    spanish = Languages.load(["en", "es"], directory=catalogs).get("es")
    with pytest.raises(MoneyError) as caught:
        parse_price("0.30", "eur")
    assert format_currency(Decimal("0.50"), "EUR", locale="es") in caught.value.text(spanish)
    assert "€0.50" in str(caught.value)
    with pytest.raises(MoneyError) as amount:
        parse_amount("-5", "usd")
    assert str(amount.value) == "An amount can't be negative."
    stars = order_record(
        currency="xtr", amount_total=1500, amount_charged=1500, rail=Rail.STARS,
        telegram_payment_charge_id="stxcharge",
    )  # fmt: skip
    refusal = whole_order_only(stars)
    assert "⭐ 1.500" in refusal.text(spanish) and "⭐ 1,500" in str(refusal)
