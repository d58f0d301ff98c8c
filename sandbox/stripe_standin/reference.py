"""What Stripe documents about money and sessions: currencies, minor units, charge bounds, session
life.

tests/test_reference_data.py checks these against the shop's own copy (bot/money.py and
friends).
"""

from __future__ import annotations

import typing

API_VERSION = "2026-10-28.endive"
MAX_AMOUNT = 99_999_999  # eight digits: $999,999.99

# Stripe's presentment currencies (https://docs.stripe.com/currencies#presentment-currencies).
_CURRENCY_CODES = (
    "usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bhd bif bmd bnd bob brl bsd "
    "bwp byn bzd cad cdf chf clp cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp "
    "gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr isk jmd jod jpy kes kgs khr kmf krw "
    "kwd kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn nad "
    "ngn nio nok npr nzd omr pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek "
    "sgd shp sle sos srd std szl thb tjs tnd top try ttd twd tzs uah ugx uyu uzs vnd vuv wst "
    "xaf xcd xof xpf yer zar zmw"
)
CURRENCIES = frozenset(_CURRENCY_CODES.split())
# Zero-decimal currencies as the API counts them. UGX is not among them: Stripe's "special
# cases" keep it (like ISK) two-decimal in the API, with amounts that always end in 00.
_ZERO_DECIMAL_CODES = "bif clp djf gnf jpy kmf krw mga pyg rwf vnd vuv xaf xof xpf"
ZERO_DECIMAL = frozenset(_ZERO_DECIMAL_CODES.split())
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
# expires_at bounds of a Checkout Session, seconds after its creation.
MIN_SESSION_LIFE_SECONDS = 30 * 60
MAX_SESSION_LIFE_SECONDS = 24 * 60 * 60
# line_items per Checkout Session (the create endpoint's documentation: 100 in payment mode).
MAX_LINE_ITEMS = 100
# Stripe's minimum charge amounts, in the currency's minor unit. Other currencies are only
# held to "more than zero" here (Stripe converts them to the settlement currency).
MINIMUM_AMOUNTS = {
    "usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50, "czk": 1500,
    "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500, "inr": 50, "jpy": 50,
    "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200, "ron": 200, "sek": 300,
    "sgd": 50, "thb": 1000,
}  # fmt: skip
SYMBOLS = {"usd": "$", "cad": "$", "aud": "$", "nzd": "$", "sgd": "$", "hkd": "$", "mxn": "$",
           "eur": "€", "gbp": "£", "jpy": "¥", "inr": "₹", "brl": "R$", "krw": "₩"}  # fmt: skip


def _sdk_countries() -> frozenset[str] | None:
    """The country codes Checkout accepts, as listed by the SDK (no "UK": it is "GB")."""
    try:
        from stripe.params.checkout import _session_create_params as params

        hint = params.SessionCreateParamsShippingAddressCollection.__annotations__[
            "allowed_countries"
        ]
        literal = typing.get_args(typing.get_args(hint)[0])[0]
        codes = frozenset(str(code) for code in typing.get_args(literal))
    except (ImportError, AttributeError, IndexError, KeyError):
        return None
    return codes or None


COUNTRIES = _sdk_countries()


def format_amount(amount: int, currency: str) -> str:
    """`$0.50 usd`, `¥50 jpy` — the way Stripe's amount errors print money."""
    symbol = SYMBOLS.get(currency, "")
    if currency in ZERO_DECIMAL:
        return f"{symbol}{amount:,} {currency}"
    places = 3 if currency in THREE_DECIMAL else 2
    return f"{symbol}{amount / 10**places:,.{places}f} {currency}"
