"""Money as people type it: a merchant's price ("9,99", "EUR 9.99", "€9.99", "1 000 jpy") and an
admin's refund amount, read into minor units with a refusal that says what to type instead.

Babel's currency symbols are recognised beside the ISO codes; the rules of what Stripe charges
(exponents, minimums, the ceiling) come from shop/money.py, the one place they are decided. Each
refusal is worded here, beside its rule, in whatever language the merchant reads
(shop/refusal.py): amounts in it are shown in their locale.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from babel.numbers import get_currency_symbol

from shop.money import (
    MAX_AMOUNT,
    SUPPORTED_CURRENCIES,
    WHOLE_UNITS_ONLY,
    Money,
    MoneyError,
    currency_code,
    exponent,
    minimum_charge,
    to_major,
)

__all__ = ["parse_amount", "parse_price"]

_MAX_INPUT_LENGTH = 64

# Symbols that many currencies share; the merchant's default currency wins when it is one of
# them, else the first (the one most people mean).
_SHARED_SYMBOLS: dict[str, str] = {
    "$": "usd cad aud nzd hkd sgd mxn twd ars clp cop uyu bsd bbd bmd bnd bzd fjd gyd jmd kyd"
    " lrd nad sbd srd ttd xcd dop wst top",
    "¥": "jpy cny",
    "£": "gbp egp fkp gip shp lbp",
    "kr": "sek nok dkk isk",
    "kr.": "dkk isk sek nok",
    "fr": "chf",
    "fr.": "chf",
    "r": "zar",
    "rs": "inr pkr lkr npr mur scr",
}
_EXTRA_SYMBOLS: dict[str, str] = {
    "us$": "usd",
    "c$": "cad",
    "au$": "aud",
    "s$": "sgd",
    "rm": "myr",
    "rp": "idr",
    "zł": "pln",
    "kč": "czk",
    "ft": "huf",
    "lei": "ron",
    "лв": "bgn",
    "лв.": "bgn",
    "₽": "rub",
    "₺": "try",
    "₴": "uah",
    "₦": "ngn",
    "₸": "kzt",
    "₲": "pyg",
    "₡": "crc",
    "₮": "mnt",
    "₾": "gel",
    "₼": "azn",
    "৳": "bdt",
    "฿": "thb",
    "₭": "lak",
    "€": "eur",
}


def _symbol_key(symbol: str) -> str:
    return " ".join(symbol.split()).casefold()


def _build_symbols() -> dict[str, str]:
    symbols: dict[str, str] = {}
    for code in sorted(SUPPORTED_CURRENCIES):
        symbol = _symbol_key(get_currency_symbol(code.upper(), "en"))
        if symbol != code and symbol not in _SHARED_SYMBOLS:
            symbols.setdefault(symbol, code)
    symbols.update(_EXTRA_SYMBOLS)
    return symbols


_SYMBOLS = _build_symbols()

_GROUPING = " '’\u00a0\u202f\u2009"
_NUMBER = re.compile(r"[.,]?\d(?:[\d.,'’ \u00a0\u202f\u2009]*\d)?")
_MINUS = "-−–"


def _currency_from_token(token: str, default: str) -> str:
    if re.fullmatch(r"[A-Za-z]{3}", token):
        return currency_code(token)
    key = _symbol_key(token)
    if key in _SHARED_SYMBOLS:
        candidates = _SHARED_SYMBOLS[key].split()
        return default if default in candidates else candidates[0]
    if key in _SYMBOLS:
        return _SYMBOLS[key]
    typed = token[:12]
    raise MoneyError(
        lambda lang: lang.t(
            "I don't know the currency “{typed}”. Use a code like EUR or USD.", typed=typed
        )
    )


def _split_groups(integer: str, separators: str, shown: str) -> str:
    """Join digit groups, checking they look like thousands so that typos are not guessed at."""
    parts = re.split(f"[{re.escape(separators)}]", integer)
    if len(parts) > 1:
        first, *rest = parts
        # Three-digit groups, with two-digit inner groups allowed for lakh notation (1,00,000).
        if not (1 <= len(first) <= 3 and len(rest[-1]) == 3):
            raise _garbage(shown)
        if any(len(part) not in (2, 3) for part in rest[:-1]):
            raise _garbage(shown)
    digits = "".join(parts)
    if not digits.isdigit():
        raise _garbage(shown)
    return digits


def _garbage(typed: str, price: bool = True) -> MoneyError:
    """Text that is no number we can read: a price (typed for a product) or an amount (to
    refund)."""
    if price:
        return MoneyError(
            lambda lang: lang.t(
                "“{typed}” is not a price I can read. Write it like 9.99, 9,99 EUR or ¥1000.",
                typed=typed,
            )
        )
    return MoneyError(
        lambda lang: lang.t(
            "“{typed}” is not an amount I can read. Write it like 9.99, 9,99 EUR or ¥1000.",
            typed=typed,
        )
    )


def _parse_number(number: str, code: str) -> tuple[str, str]:
    """Split a typed number into integer digits and fraction digits.

    A lone comma followed by exactly three digits is read as a thousands separator ("1,000"),
    while a lone dot always starts decimals, so "1.000" in a two-decimal currency is refused
    rather than silently read as one unit.
    """
    name = code.upper()
    dots, commas = number.count("."), number.count(",")
    decimal_sep: str | None = None
    if dots and commas:
        decimal_sep = "." if number.rfind(".") > number.rfind(",") else ","
        if number.count(decimal_sep) > 1:
            raise _garbage(number)
    elif dots == 1 or commas == 1:
        sep = "." if dots else ","
        after = number.rsplit(sep, 1)[1]
        if sep == "," and len(after) == 3 and re.fullmatch(r"\d+", after):
            if exponent(code) == 3:
                raise MoneyError(
                    lambda lang: lang.t(
                        "“{typed}” is ambiguous for {currency}: write {decimals} for decimals "
                        "or {thousands} for thousands.",
                        typed=number,
                        currency=name,
                        decimals=number.replace(",", "."),
                        thousands=number.replace(",", ""),
                    )
                )
        else:
            decimal_sep = sep
    if decimal_sep is None:
        grouping = _GROUPING + ".,"
        return _split_groups(number, grouping, number), ""
    integer, fraction = number.rsplit(decimal_sep, 1)
    if not re.fullmatch(r"\d+", fraction):
        raise _garbage(number)
    other = "," if decimal_sep == "." else "."
    integer = _split_groups(integer, _GROUPING + other, number) if integer else "0"
    return integer, fraction


def parse_price(text: str, default_currency: str) -> Money:
    """Read a price as a merchant types it ("9,99", "EUR 9.99", "€9.99", "1 000 jpy").

    Every refusal says what to type instead, because the merchant is mid-conversation with the
    bot and Stripe's own errors would only surface when a buyer tries to pay.
    """
    default = currency_code(default_currency)
    raw = _price_text(text)
    number, code = _number_and_currency(raw, default)
    amount = _minor_units(number, code)
    _check_chargeable(amount, number, code)
    return Money(amount, code)


def parse_amount(text: str, currency: str) -> int:
    """An amount in a known currency as a person types it ("5", "5,50", "€5", "5.50 usd"), in
    minor units: what an admin refunds. Read like a price, but with no minimum charge (any
    part of a payment can be given back) and only in `currency`."""
    code = currency_code(currency)
    number, named = _number_and_currency(_price_text(text), code, price=False)
    if named != code:
        name, places = code.upper(), exponent(code)
        example = "5" if places == 0 else "5." + "0" * places
        raise MoneyError(
            lambda lang: lang.t(
                "This is in {currency}: write the amount in {currency}, like {example}.",
                currency=name,
                example=example,
            )
        )
    amount = _minor_units(number, code)
    if amount == 0:
        raise MoneyError(lambda lang: lang.t("An amount must be more than zero."))
    if amount > MAX_AMOUNT:
        raise MoneyError(lambda lang: lang.t("That is more than any payment Stripe takes."))
    return amount


def _price_text(text: str) -> str:
    """The merchant's text, stripped; refused when empty or too long to be a price."""
    raw = (text or "").strip()
    if not raw:
        raise MoneyError(lambda lang: lang.t("Please send a price, like 9.99."))
    if len(raw) > _MAX_INPUT_LENGTH:
        start = raw[:20]
        raise MoneyError(
            lambda lang: lang.t(
                "“{start}…” is too long to be a price. Write it like 9.99.", start=start
            )
        )
    return raw


def _number_and_currency(raw: str, default: str, *, price: bool = True) -> tuple[str, str]:
    """The one number in the text and the currency the words around it name (the default when
    none): anything else around the number (a minus, a second number, stray words) is refused."""
    found = list(_NUMBER.finditer(raw))
    if len(found) != 1:
        raise _garbage(raw, price)
    match = found[0]
    before, after = raw[: match.start()].strip(), raw[match.end() :].strip()
    negative = any(ch in before for ch in _MINUS)
    before = before.strip(_MINUS).strip()
    if any(ch in after for ch in _MINUS) or any(ch in before for ch in _MINUS):
        raise _garbage(raw, price)
    if negative:
        raise MoneyError(
            (lambda lang: lang.t("A price can't be negative."))
            if price
            else (lambda lang: lang.t("An amount can't be negative."))
        )
    tokens = [token for token in (before, after) if token]
    if any(not any(ch.isalpha() or unicodedata.category(ch) == "Sc" for ch in t) for t in tokens):
        raise _garbage(raw, price)
    currencies = {_currency_from_token(token, default) for token in tokens}
    if len(currencies) > 1:
        raise MoneyError(
            lambda lang: lang.t(
                "“{typed}” names two currencies. Use one, like 9.99 EUR.", typed=raw
            )
        )
    return match.group(), currencies.pop() if currencies else default


def _minor_units(number: str, code: str) -> int:
    """The number in the currency's minor units, refused when it has more decimals than the
    currency allows (or, for ISK and UGX, any fraction at all)."""
    name = code.upper()
    integer, fraction = _parse_number(number, code)
    places = exponent(code)
    allowed = 0 if code in WHOLE_UNITS_ONLY else places  # what the merchant should write
    # ISK and UGX keep two API decimals, so "500.00" is still a fair way to write 500.
    if len(fraction) > places:
        raise _too_many_decimals(number, name, allowed, thousands=len(fraction) == 3)
    if code in WHOLE_UNITS_ONLY and fraction.strip("0"):
        raise MoneyError(
            lambda lang: lang.t(
                "Stripe charges {currency} in whole units only: “{typed}” has a fraction.",
                currency=name,
                typed=number,
            )
        )
    return int(Decimal(f"{integer}.{fraction or '0'}").scaleb(places))


def _too_many_decimals(typed: str, currency: str, allowed: int, *, thousands: bool) -> MoneyError:
    """More decimals than the currency has; three of them were likely meant as thousands."""
    if thousands:
        return MoneyError(
            lambda lang: lang.t(
                "“{typed}” has more decimals than {currency} allows ({places}). For thousands, "
                "write it without a separator.",
                typed=typed,
                currency=currency,
                places=allowed,
            )
        )
    return MoneyError(
        lambda lang: lang.t(
            "“{typed}” has more decimals than {currency} allows ({places}).",
            typed=typed,
            currency=currency,
            places=allowed,
        )
    )


def _check_chargeable(amount: int, number: str, code: str) -> None:
    """Refuse an amount Stripe would not charge: zero, above its maximum, not a multiple of 10
    in a three-decimal currency, or below the currency's minimum charge."""
    name = code.upper()
    places = exponent(code)
    if amount == 0:
        raise MoneyError(lambda lang: lang.t("A price must be more than zero."))
    step = 100 if code in WHOLE_UNITS_ONLY else 10 if places == 3 else 1
    ceiling = MAX_AMOUNT - MAX_AMOUNT % step
    if amount > ceiling:
        raise MoneyError(
            lambda lang: lang.t(
                "“{typed}” is more than Stripe accepts: the maximum for {currency} is {maximum}.",
                typed=number,
                currency=name,
                maximum=lang.money(ceiling, code),
            )
        )
    if places == 3 and amount % 10:
        raise _not_ending_in_zero(amount, number, code)
    floor = minimum_charge(code)
    if floor is not None and amount < floor:
        raise MoneyError(
            lambda lang: lang.t(
                "{amount} is too little: Stripe's minimum for {currency} is {minimum}.",
                amount=lang.money(amount, code),
                currency=name,
                minimum=lang.money(floor, code),
            )
        )


def _not_ending_in_zero(amount: int, number: str, code: str) -> MoneyError:
    """A three-decimal amount Stripe refuses: the nearest ones it takes, as the merchant types."""
    lower = amount - amount % 10
    name, higher = code.upper(), str(to_major(lower + 10, code))
    if lower == 0:
        return MoneyError(
            lambda lang: lang.t(
                "Stripe needs {currency} amounts to end in 0: use {higher} instead of “{typed}”.",
                currency=name,
                higher=higher,
                typed=number,
            )
        )
    return MoneyError(
        lambda lang: lang.t(
            "Stripe needs {currency} amounts to end in 0: use {lower} or {higher} instead of "
            "“{typed}”.",
            currency=name,
            lower=str(to_major(lower, code)),
            higher=higher,
            typed=number,
        )
    )
