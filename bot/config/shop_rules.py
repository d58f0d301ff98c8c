"""How this shop runs: its admins, what it charges in and ships to, how long a payment link
lives, how much one buyer may hold, how buyers reach the merchant (and what /paysupport
promises them), and how it logs.

One reader per setting, each returning the default after recording a problem, so that
`load_settings` lists them in one place in the order their problems are reported."""

from __future__ import annotations

import re

from babel import Locale

from bot.config.problems import Reader, shown
from bot.config.values import whole_number, yes_no
from bot.texts import utf16_len
from shop.money import SUPPORTED_CURRENCIES

__all__ = [
    "DEFAULT_SHIPPING_COUNTRIES",
    "MAX_PAYSUPPORT_TEXT",
    "MAX_SUPPORT_CONTACT",
    "SHIPPABLE_COUNTRIES",
    "read_admin_ids",
    "read_checkout_expiry",
    "read_default_currency",
    "read_log_level",
    "read_max_reserved",
    "read_notify_expired",
    "read_paysupport_text",
    "read_promotion_codes",
    "read_shipping_countries",
    "read_support_contact",
]

DEFAULT_SHIPPING_COUNTRIES: tuple[str, ...] = ("US", "CA", "GB", "DE", "FR")
MAX_SUPPORT_CONTACT = 200
# /paysupport's text, in UTF-16 units as Telegram counts: with the header, the contact line and
# five orders the message stays far below Telegram's 4096.
MAX_PAYSUPPORT_TEXT = 1000
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Codes Babel knows that Checkout's shipping_address_collection.allowed_countries refuses:
# territories Stripe does not ship to, plus CLDR's non-country regions.
_STRIPE_UNSHIPPABLE = frozenset(
    {
        "AS", "CC", "CU", "CX", "FM", "HM", "IR", "KP", "MH", "MP", "NF", "PW", "SY", "UM", "VI",
        "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "UN", "XA", "XB", "ZZ",
    }
)  # fmt: skip
_ISO_TERRITORIES: frozenset[str] = frozenset(
    str(code) for code in Locale.parse("en").territories if re.fullmatch(r"[A-Z]{2}", str(code))
)
SHIPPABLE_COUNTRIES: frozenset[str] = _ISO_TERRITORIES - _STRIPE_UNSHIPPABLE
"""Two-letter codes that Stripe Checkout accepts in `allowed_countries`."""


def read_admin_ids(r: Reader) -> frozenset[int]:
    """ADMIN_IDS; empty only after a problem was recorded."""
    admin_raw = r.required("ADMIN_IDS", "list the Telegram user ids of the shop's admins.")
    return (_admin_ids(r, admin_raw) if admin_raw is not None else None) or frozenset()


def read_default_currency(r: Reader) -> str:
    return r.parsed("DEFAULT_CURRENCY", "usd", lambda v: _currency(r, v))


def read_log_level(r: Reader) -> str:
    return r.parsed("LOG_LEVEL", "INFO", lambda v: _log_level(r, v))


def read_promotion_codes(r: Reader) -> bool:
    return r.parsed("ALLOW_PROMOTION_CODES", False, yes_no(r, "ALLOW_PROMOTION_CODES"))


def read_shipping_countries(r: Reader) -> tuple[str, ...]:
    return r.parsed(
        "SHIPPING_COUNTRIES", DEFAULT_SHIPPING_COUNTRIES, lambda v: _shipping_countries(r, v)
    )


def read_checkout_expiry(r: Reader) -> int:
    """CHECKOUT_EXPIRES_MINUTES, within Stripe's bounds for a Checkout Session."""
    why = " (Stripe's bounds for a Checkout Session)"
    return r.parsed(
        "CHECKOUT_EXPIRES_MINUTES", 60, whole_number(r, "CHECKOUT_EXPIRES_MINUTES", 30, 1440, why)
    )


def read_notify_expired(r: Reader) -> bool:
    return r.parsed("NOTIFY_EXPIRED", True, yes_no(r, "NOTIFY_EXPIRED"))


def read_max_reserved(r: Reader) -> int:
    why = " (units of one product per buyer)"
    return r.parsed(
        "MAX_RESERVED_PER_BUYER", 10, whole_number(r, "MAX_RESERVED_PER_BUYER", 1, 100_000, why)
    )


def read_support_contact(r: Reader) -> str | None:
    return r.parsed("SUPPORT_CONTACT", None, lambda v: _support_contact(r, v))


def read_paysupport_text(r: Reader) -> str | None:
    """PAYSUPPORT_TEXT; None: /paysupport states the shipped default terms."""
    return r.parsed("PAYSUPPORT_TEXT", None, lambda v: _paysupport_text(r, v))


def _admin_ids(reader: Reader, value: str) -> frozenset[int] | None:
    items = [item.strip() for item in value.split(",")]
    bad = [item for item in items if item and not re.fullmatch(r"[0-9]+", item)]
    ids = frozenset(int(item) for item in items if item and item not in bad)
    if bad:
        listed = ", ".join(shown(item) for item in bad[:5])
        reader.problem(
            f"ADMIN_IDS must be numeric Telegram user ids separated by commas; not ids: {listed}."
        )
        return None
    if 0 in ids:
        reader.problem("ADMIN_IDS cannot contain 0: Telegram user ids are positive.")
        return None
    if not ids:
        reader.problem("ADMIN_IDS is missing: list at least one admin's Telegram user id.")
        return None
    return ids


def _currency(reader: Reader, value: str) -> str | None:
    code = value.lower()
    if code in SUPPORTED_CURRENCIES:
        return code
    reader.problem(
        f"DEFAULT_CURRENCY {shown(value)} is not a currency Stripe charges in; "
        "use a three-letter ISO code such as usd or eur."
    )
    return None


def _log_level(reader: Reader, value: str) -> str | None:
    upper = value.upper()
    if upper in _LOG_LEVELS:
        return upper
    reader.problem(f"LOG_LEVEL {shown(value)} must be one of {', '.join(_LOG_LEVELS)}.")
    return None


def _shipping_countries(reader: Reader, value: str) -> tuple[str, ...] | None:
    codes: list[str] = []
    unknown: list[str] = []
    refused: list[str] = []
    for item in value.split(","):
        code = item.strip().upper()
        if not code:
            continue
        if code in SHIPPABLE_COUNTRIES:
            if code not in codes:
                codes.append(code)
        elif code in _ISO_TERRITORIES and re.fullmatch(r"[A-Z]{2}", code):
            refused.append(code)
        else:
            unknown.append(item.strip())
    if unknown:
        reader.problem(
            "SHIPPING_COUNTRIES must list two-letter ISO 3166 country codes such as US,DE; "
            f"not codes: {', '.join(shown(u) for u in unknown[:5])}."
        )
    if refused:
        reader.problem(
            f"SHIPPING_COUNTRIES contains {', '.join(refused)}, which Stripe Checkout "
            "does not ship to; remove them."
        )
    if unknown or refused:
        return None
    if not codes:
        reader.problem("SHIPPING_COUNTRIES is empty: list at least one country code, e.g. US.")
        return None
    return tuple(codes)


def _support_contact(reader: Reader, value: str) -> str | None:
    """One line that buyers read in /help, /paysupport and the answer to a plain message."""
    if "\n" in value or utf16_len(value) > MAX_SUPPORT_CONTACT:
        reader.problem(
            f"SUPPORT_CONTACT must be one line of at most {MAX_SUPPORT_CONTACT} characters, "
            "e.g. @myshop_support or support@myshop.example."
        )
        return None
    return value


def _paysupport_text(reader: Reader, value: str) -> str | None:
    """The merchant's own payment-support terms; plain text (escaped when shown), so a stray
    `<` can never break the message."""
    if utf16_len(value) > MAX_PAYSUPPORT_TEXT:
        reader.problem(
            f"PAYSUPPORT_TEXT must be plain text of at most {MAX_PAYSUPPORT_TEXT} characters: "
            "what you promise buyers about refunds and how soon you answer."
        )
        return None
    return value
