"""Prices as merchants type them, and amounts as Stripe and buyers see them."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from babel.numbers import get_currency_name

from shop.money import (
    MAX_AMOUNT,
    SUPPORTED_CURRENCIES,
    Money,
    MoneyError,
    exponent,
    format_money,
    minimum_charge,
    to_major,
)
from shop.typed_money import parse_amount, parse_price


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("9.99", "usd", Money(999, "usd")),
        ("9,99", "usd", Money(999, "usd")),
        ("9.99 eur", "usd", Money(999, "eur")),
        ("EUR 9.99", "usd", Money(999, "eur")),
        ("€9.99", "usd", Money(999, "eur")),
        ("9,99 €", "usd", Money(999, "eur")),
        ("$5", "usd", Money(500, "usd")),
        ("$5", "cad", Money(500, "cad")),
        ("CA$5", "usd", Money(500, "cad")),
        ("1000 jpy", "usd", Money(1000, "jpy")),
        ("¥1,000", "usd", Money(1000, "jpy")),
        ("¥88", "cny", Money(8800, "cny")),
        ("1 000", "usd", Money(100_000, "usd")),
        ("1,000.50", "usd", Money(100_050, "usd")),
        ("1.000,50 €", "usd", Money(100_050, "eur")),
        ("1'000.50 CHF", "usd", Money(100_050, "chf")),
        ("1,00,000 inr", "usd", Money(10_000_000, "inr")),
        ("  12  ", "usd", Money(1200, "usd")),
        ("2.500 kwd", "usd", Money(2500, "kwd")),
        ("0.5 KWD", "usd", Money(500, "kwd")),
        ("500 isk", "usd", Money(50_000, "isk")),
        ("500.00 isk", "usd", Money(50_000, "isk")),
        ("2000 ugx", "usd", Money(200_000, "ugx")),
        ("175.50 huf", "usd", Money(17_550, "huf")),
        ("999999.99", "usd", Money(MAX_AMOUNT, "usd")),
        ("0.50", "eur", Money(50, "eur")),
        ("0.30 gbp", "usd", Money(30, "gbp")),
    ],
)
def test_parse_price_accepts_what_merchants_type(text: str, default: str, expected: Money) -> None:
    assert parse_price(text, default) == expected


@pytest.mark.parametrize(
    ("text", "default", "fragment"),
    [
        ("9.999", "usd", "“9.999” has more decimals than USD allows (2)."),
        ("1.000 eur", "usd", "more decimals than EUR allows (2)"),
        ("1,5 jpy", "usd", "more decimals than JPY allows (0)"),
        ("1.000 isk", "usd", "more decimals than ISK allows (0)"),
        ("500.50 isk", "usd", "whole units"),
        ("5.125 kwd", "usd", "use 5.120 or 5.130"),
        ("2,500 kwd", "usd", "ambiguous"),
        ("0.30", "eur", "Stripe's minimum for EUR is €0.50"),
        ("0.29 gbp", "usd", "Stripe's minimum for GBP is £0.30"),
        ("49 jpy", "usd", "Stripe's minimum for JPY is ¥50"),
        ("1000000", "usd", "maximum for USD is $999,999.99"),
        ("100000000 jpy", "usd", "maximum for JPY is ¥99,999,999"),
        ("abc", "usd", "not a price"),
        ("9.", "usd", "not a price"),
        ("5 for 10", "usd", "not a price"),
        ("1 0", "usd", "not a price"),
        ("1.2.3,4,5", "usd", "not a price"),
        ("", "usd", "send a price"),
        ("x" * 100, "usd", "too long"),
        ("-5", "usd", "negative"),
        ("-$5", "usd", "negative"),
        ("EUR −9.99", "usd", "negative"),
        ("0", "usd", "more than zero"),
        ("0.00 eur", "usd", "more than zero"),
        ("5 xyz", "usd", "“xyz” is not a currency"),
        ("5 ₿", "usd", "don't know the currency"),
        ("$5 eur", "usd", "two currencies"),
    ],
)
def test_parse_price_refuses_with_a_friendly_sentence(
    text: str, default: str, fragment: str
) -> None:
    with pytest.raises(MoneyError) as caught:
        parse_price(text, default)
    assert fragment in str(caught.value)


def test_parse_price_rejects_an_unknown_default_currency() -> None:
    with pytest.raises(MoneyError, match="not a currency"):
        parse_price("5", "zzz")


def test_money_error_is_a_value_error() -> None:
    # Callers that only know ValueError (e.g. generic input handlers) still catch it.
    assert issubclass(MoneyError, ValueError)


def test_money_refuses_floats_and_uppercase_codes() -> None:
    with pytest.raises(MoneyError):
        Money(9.99, "usd")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(True, "usd")
    with pytest.raises(MoneyError):
        Money(999, "USD")


@pytest.mark.parametrize(
    ("currency", "places"),
    [
        ("usd", 2),
        ("EUR", 2),
        ("jpy", 0),
        ("krw", 0),
        ("xof", 0),
        ("kwd", 3),
        ("bhd", 3),
        ("tnd", 3),
        # Stripe's special cases: whole units, but still sent with two decimals.
        ("isk", 2),
        ("ugx", 2),
        # Zero-decimal at Stripe only for payouts; charges keep two decimals.
        ("huf", 2),
        ("twd", 2),
    ],
)
def test_exponent_follows_stripe_not_iso(currency: str, places: int) -> None:
    assert exponent(currency) == places


def test_exponent_of_an_unsupported_currency_is_an_error() -> None:
    with pytest.raises(MoneyError):
        exponent("xxx")


def test_supported_currencies_are_lowercase_and_known_to_babel() -> None:
    assert len(SUPPORTED_CURRENCIES) >= 135
    for code in SUPPORTED_CURRENCIES:
        assert code == code.lower() and len(code) == 3
        assert get_currency_name(code.upper(), locale="en") != code.upper(), code


def test_minimum_charge_table() -> None:
    assert minimum_charge("usd") == 50
    assert minimum_charge("EUR") == 50
    assert minimum_charge("gbp") == 30
    assert minimum_charge("jpy") == 50
    assert minimum_charge("huf") == 17500
    assert minimum_charge("mxn") == 1000
    assert minimum_charge("hkd") == 400
    # Only "the equivalent of $0.50" is documented for these: no fixed floor to check.
    assert minimum_charge("kwd") is None
    assert minimum_charge("isk") is None


def test_to_major_is_exact() -> None:
    assert to_major(999, "usd") == Decimal("9.99")
    assert to_major(1000, "jpy") == Decimal(1000)
    assert to_major(1250, "kwd") == Decimal("1.250")
    assert to_major(50_000, "isk") == Decimal(500)


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (999, "usd", "en_US", "$9.99"),
        (1000, "jpy", "en_US", "¥1,000"),
        (950, "eur", "de_DE", "9,50\xa0€"),
        (950, "eur", "de", "9,50\xa0€"),
        (1250, "kwd", "en_US", "KWD1.250"),
        (50_000, "isk", "en_US", "ISK500"),
        (12_345_678, "usd", "en_US", "$123,456.78"),
    ],
)
def test_format_money(amount: int, currency: str, locale: str, expected: str) -> None:
    assert format_money(amount, currency, locale) == expected


def test_format_money_accepts_telegram_language_codes_and_falls_back() -> None:
    assert format_money(950, "eur", "pt-br") == format_money(950, "eur", "pt_BR")
    assert format_money(999, "usd", "zz") == "$9.99"


def test_format_money_never_rounds_a_fraction_babel_would_hide() -> None:
    # Babel shows ISK without decimals; an old fractional amount must still read exactly.
    assert format_money(50_050, "isk") == "ISK500.5"


def test_parse_then_format_round_trips() -> None:
    money = parse_price("1.234,50 eur", "usd")
    assert format_money(money.amount, money.currency, "de_DE") == "1.234,50\xa0€"


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [("5", "usd", 500), ("0.10", "usd", 10), ("€1,5", "eur", 150), ("$5 usd", "usd", 500),
     ("300", "jpy", 300)],
)  # fmt: skip
def test_parse_amount_reads_any_part_of_a_payment(text: str, currency: str, expected: int) -> None:
    """A refund amount: read like a price, but 10 cents is fine (no minimum charge)."""
    assert parse_amount(text, currency) == expected


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [("lots", "usd", "not an amount I can read"), ("5 EUR", "usd", "write the amount in USD"),
     ("0", "usd", "more than zero"), ("5.001", "usd", "more decimals than USD allows (2)"),
     ("-5", "usd", "can't be negative"), ("9999999", "usd", "more than any payment")],
)  # fmt: skip
def test_parse_amount_says_how_to_write_it(text: str, currency: str, message: str) -> None:
    with pytest.raises(MoneyError, match=re.escape(message)):
        parse_amount(text, currency)
