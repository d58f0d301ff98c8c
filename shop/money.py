"""Money as Stripe sees it: integer minor units plus a lowercase ISO currency code.

Floats never appear here because a price that is off by a cent is a price the merchant did not
set. The exponent table follows Stripe's rules rather than ISO 4217, because Stripe is the party
that interprets `unit_amount`; Babel is used only to show amounts to people (and, in
shop/typed_money.py, to recognise the symbols they type).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.numbers import format_currency, format_decimal, get_currency_precision

from shop.refusal import Refusal
from storage.models import STARS_CURRENCY

__all__ = [
    "MAX_AMOUNT",
    "SUPPORTED_CURRENCIES",
    "Money",
    "MoneyError",
    "WHOLE_UNITS_ONLY",
    "currency_code",
    "exponent",
    "format_money",
    "minimum_charge",
    "to_major",
]


class MoneyError(Refusal, ValueError):
    """A price Stripe would refuse, worded for the merchant who typed it (`text(lang)`, in
    their language; `str()` is the English)."""


@dataclass(frozen=True)
class Money:
    """An amount in the currency's minor units as Stripe counts them (cents, yen, fils)."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        # A float or an upper-case code slipping in here would reach Stripe unchanged.
        amount, currency = repr(self.amount), repr(self.currency)
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError(
                lambda lang: lang.t(
                    "Money needs an integer amount of minor units, not {amount}.", amount=amount
                )
            )
        if not re.fullmatch(r"[a-z]{3}", self.currency):
            raise MoneyError(
                lambda lang: lang.t(
                    "Money needs a lowercase ISO currency code, not {currency}.", currency=currency
                )
            )


def _codes(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Stripe's presentment currencies (https://docs.stripe.com/currencies#presentment-currencies).
SUPPORTED_CURRENCIES: frozenset[str] = _codes(
    """
    usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd
    bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp
    gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw
    kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad
    ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek
    sgd shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst
    xaf xcd xof xpf yer zar zmw
    """
)

# Stripe's zero-decimal list. UGX is absent on purpose: Stripe's "special cases" say UGX (like
# ISK) became zero-decimal but must still be sent with two decimals that are always 00.
_ZERO_DECIMAL = _codes("bif clp djf gnf jpy kmf krw mga pyg rwf vnd vuv xaf xof xpf")
# Stripe accepts these with three decimals but only when the last digit is 0.
_THREE_DECIMAL = _codes("bhd jod kwd omr tnd")
# Two decimals in the API, yet Stripe rejects any amount not divisible by 100
# ("invalid_charge_amount_no_decimal_compatible"). HUF and TWD are zero-decimal only for
# payouts, so their charges may keep fractions and they are not listed here.
WHOLE_UNITS_ONLY = frozenset({"isk", "ugx"})

# https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts; every other currency
# is only bounded by "the equivalent of $0.50", which needs an exchange rate to check.
_MINIMUM_CHARGE: dict[str, int] = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}

MAX_AMOUNT = 99_999_999
"""Stripe's ceiling for `amount`: eight digits of minor units, whatever the currency."""


def currency_code(currency: str) -> str:
    """The lowercase code of a currency Stripe charges in; MoneyError for anything else."""
    code = currency.strip().lower()
    if code not in SUPPORTED_CURRENCIES:
        typed = currency.strip()[:12]
        raise MoneyError(
            lambda lang: lang.t("“{typed}” is not a currency Stripe can charge in.", typed=typed)
        )
    return code


def exponent(currency: str) -> int:
    """Decimal places of Stripe's minor unit, which is what `unit_amount` is counted in."""
    code = currency_code(currency)
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2


def minimum_charge(currency: str) -> int | None:
    """Stripe's documented floor in minor units; None where only "$0.50 equivalent" applies."""
    return _MINIMUM_CHARGE.get(currency_code(currency))


def to_major(amount: int, currency: str) -> Decimal:
    """The amount in whole units, exactly, for arithmetic and display."""
    return Decimal(amount).scaleb(-exponent(currency))


def _locale(locale: str) -> Locale:
    # Telegram hands out IETF tags such as "pt-br"; an unknown one must not break a receipt.
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en_US")


def format_money(amount: int, currency: str, locale: str = "en_US") -> str:
    """Show an amount the way people of `locale` write it, e.g. "$9.99" or "9,50 €"; Telegram
    Stars as "⭐ 1,500" (whole Stars, grouped in the locale's way). This is the one place that
    knows how Stars look: they are not a currency Stripe charges in, so everything else here
    refuses "xtr" (`currency_code`) and a Stars amount can never reach Stripe's arithmetic."""
    if currency == STARS_CURRENCY:
        return f"⭐ {format_decimal(amount, locale=_locale(locale))}"
    code = currency_code(currency).upper()
    value = to_major(amount, currency)
    # Babel's digits can be fewer than Stripe's (ISK: 0 vs 2); never round real money away.
    exact = value == value.quantize(Decimal(1).scaleb(-get_currency_precision(code)))
    return format_currency(
        value,
        code,
        locale=_locale(locale),
        currency_digits=True,
        decimal_quantization=exact,
    )
