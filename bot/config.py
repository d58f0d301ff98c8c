"""Settings from the environment and an optional `.env` file, checked all at once.

An operator who starts the shop with a half-filled configuration should see every mistake in
one message and fix them in one go, never a traceback and never one problem per restart. The
variables and defaults are the public contract (see CONTRACT.md and `.env.example`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal, TypeVar, cast
from urllib.parse import urlsplit

from babel import Locale

from bot.texts import utf16_len
from shop.money import SUPPORTED_CURRENCIES

__all__ = [
    "ConfigError",
    "Settings",
    "configured_values",
    "database_path",
    "load_settings",
    "parse_bool",
    "read_env_file",
]

TelegramMode = Literal["polling", "webhook"]

DEFAULT_TELEGRAM_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_STRIPE_API_BASE = "https://api.stripe.com"
DEFAULT_DATABASE = Path("data/shop.db")
DEFAULT_SHIPPING_COUNTRIES: tuple[str, ...] = ("US", "CA", "GB", "DE", "FR")

_SECRET_FIELDS = frozenset(
    {"telegram_bot_token", "telegram_webhook_secret", "stripe_secret_key", "stripe_webhook_secret"}
)
# The marker .env.example puts in each value that must be filled in, so an unedited copy fails
# loudly instead of starting a bot that cannot work.
_PLACEHOLDER = "replace-with"
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{20,}$")
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_STRIPE_KEY_PREFIXES = ("sk_test_", "sk_live_", "rk_test_", "rk_live_")
# Telegram's own Bot API servers deliver webhooks only over https to these ports (setWebhook);
# a self-hosted Bot API server takes any http(s) URL and port.
_TELEGRAM_WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
_TELEGRAM_CLOUD_HOST = "api.telegram.org"
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
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


@dataclass(frozen=True)
class Settings:
    """Everything the process needs to know at start; immutable so nobody tweaks it mid-run.

    Secrets are left out of repr() so that logging the object by accident leaks nothing.
    """

    telegram_bot_token: str = field(repr=False)
    telegram_api_base_url: str
    telegram_mode: TelegramMode
    telegram_webhook_secret: str = field(repr=False)
    stripe_secret_key: str = field(repr=False)
    stripe_webhook_secret: str = field(repr=False)
    stripe_api_base: str
    public_base_url: str
    host: str
    port: int
    admin_ids: frozenset[int]
    database_path: Path
    default_currency: str
    log_level: str
    allow_promotion_codes: bool
    shipping_countries: tuple[str, ...]
    checkout_expires_minutes: int
    notify_expired: bool
    max_reserved_per_buyer: int = 10
    support_contact: str | None = None  # how buyers reach the merchant; None: relay to admins

    @property
    def stripe_livemode(self) -> bool:
        """Live keys move real money, so callers can warn or refuse test-only behaviour."""
        return self.stripe_secret_key.startswith(("sk_live_", "rk_live_"))

    @property
    def telegram_webhook_url(self) -> str:
        """The one place that spells the webhook route, shared by setWebhook and the router."""
        return f"{self.public_base_url}/telegram/webhook"

    def redacted(self) -> dict[str, str]:
        """Every setting as text safe for a log line: secrets keep only a recognisable hint."""
        shown: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in _SECRET_FIELDS:
                shown[item.name] = _mask(str(value))
            elif isinstance(value, bool):
                shown[item.name] = "true" if value else "false"
            elif isinstance(value, frozenset):
                shown[item.name] = ",".join(str(v) for v in sorted(value))
            elif isinstance(value, tuple):
                shown[item.name] = ",".join(str(v) for v in value)
            else:
                shown[item.name] = str(value)
        return shown


class ConfigError(Exception):
    """The configuration cannot start the shop; `problems` holds one sentence per mistake."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        lines = ["Configuration is incomplete or invalid:"]
        lines += [f"  - {problem}" for problem in self.problems]
        lines.append("See .env.example for every variable, its default and what it means.")
        return "\n".join(lines)


def _mask(secret: str) -> str:
    """Keep the kind of secret visible (test or live key, which bot) but never enough to use."""
    if not secret:
        return ""
    prefix = ""
    match = re.match(r"^(?:(?:sk|rk|pk)_(?:test|live)_|whsec_|\d+:)", secret)
    if match:
        prefix = match.group()
    tail = secret[-4:] if len(secret) - len(prefix) >= 16 else ""
    return f"{prefix}…{tail}"


def _looks_secret(value: str) -> bool:
    return bool(
        _TOKEN_RE.match(value)
        or value.startswith(("sk_", "rk_", "pk_", "whsec_"))
        or re.search(r"//[^/@\s]*:[^/@\s]*@", value)
    )


def _shown(value: str) -> str:
    """Quote a bad value back to the operator, unless it might be a secret pasted in the wrong
    variable: a log of the error message must never leak a key."""
    if _looks_secret(value):
        return "(value hidden: it looks like a secret)"
    return f"“{value[:80]}{'…' if len(value) > 80 else ''}”"


# --- .env files ----------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def _unquote_double(body: str) -> tuple[str, str] | None:
    """Value and rest of line for a double-quoted value, or None if the quote never closes."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
            continue
        if ch == '"':
            return "".join(out), body[i + 1 :]
        out.append(ch)
        i += 1
    return None


def _parse_env_text(text: str, source: str) -> tuple[dict[str, str], list[str]]:
    values: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ENV_LINE.match(stripped)
        if not match:
            problems.append(
                f"{source} line {number} is not KEY=VALUE "
                "(a name of letters, digits and _, then =, then the value)."
            )
            continue
        key, raw = match.group(1), match.group(2)
        rest = ""
        if raw.startswith('"'):
            parsed = _unquote_double(raw[1:])
            if parsed is None:
                problems.append(f"{source} line {number} ({key}): the double quote is not closed.")
                continue
            value, rest = parsed
        elif raw.startswith("'"):
            end = raw.find("'", 1)
            if end < 0:
                problems.append(f"{source} line {number} ({key}): the single quote is not closed.")
                continue
            value, rest = raw[1:end], raw[end + 1 :]
        else:
            value = re.split(r"\s#", raw, maxsplit=1)[0].strip()
        rest = rest.strip()
        if rest and not rest.startswith("#"):
            problems.append(
                f"{source} line {number} ({key}): unexpected text after the closing quote."
            )
            continue
        values[key] = value
    return values, problems


def read_env_file(path: Path) -> dict[str, str]:
    """The KEY=VALUE pairs of a `.env` file; a missing file is simply empty.

    Malformed lines raise one ConfigError naming each line number, so a typo in `.env` reads
    like any other configuration problem instead of a crash.
    """
    values, problems = _read_env(path)
    if problems:
        raise ConfigError(problems)
    return values


def _read_env(path: Path) -> tuple[dict[str, str], list[str]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}, []
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [f"{path} cannot be read ({type(exc).__name__}); fix or remove it."]
    return _parse_env_text(text, str(path))


# --- validation ----------------------------------------------------------------------------

_T = TypeVar("_T")


class _Reader:
    """Looks values up (environment first, then `.env`) and collects problems as it goes."""

    def __init__(self, environ: Mapping[str, str], file_values: Mapping[str, str]) -> None:
        self.environ = environ
        self.file_values = file_values
        self.problems: list[str] = []

    def raw(self, name: str) -> str | None:
        for source in (self.environ, self.file_values):
            value = source.get(name)
            if value is not None and value.strip():
                return value.strip()
        return None

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def required(self, name: str, hint: str) -> str | None:
        value = self.raw(name)
        if value is None:
            self.problem(f"{name} is missing: {hint}")
        return value

    def parsed(self, name: str, default: _T, parse: Callable[[str], _T | None]) -> _T:
        """`parse` returns None after recording its own problem; the default then stands in so
        that later checks still run and report."""
        value = self.raw(name)
        if value is None:
            return default
        result = parse(value)
        return default if result is None else result


def _url_problem(name: str, value: str) -> str | None:
    try:
        parts = urlsplit(value)
        port = parts.port  # urllib only validates the port when asked
    except ValueError:
        return f"{name} {_shown(value)} is not a valid URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{name} {_shown(value)} must be an absolute URL starting with http:// or https://."
    if parts.username is not None or parts.password is not None:
        return f"{name} must not contain a user name or password."
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        return f"{name} {_shown(value)} must not have a query (?…) or fragment (#…)."
    if port == 0:
        return f"{name} {_shown(value)} has port 0, which nothing can listen on."
    return None


def parse_bool(value: str) -> bool | None:
    """A yes/no setting: true/false, 1/0, yes/no, on/off in any case; None for anything else."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def _bool(reader: _Reader, name: str) -> Callable[[str], bool | None]:
    def parse(value: str) -> bool | None:
        result = parse_bool(value)
        if result is None:
            reader.problem(f"{name} {_shown(value)} is not a yes/no value: use true or false.")
        return result

    return parse


def _int_in(
    reader: _Reader, name: str, low: int, high: int, why: str
) -> Callable[[str], int | None]:
    def parse(value: str) -> int | None:
        if not re.fullmatch(r"[0-9]+", value) or not low <= int(value) <= high:
            reader.problem(
                f"{name} {_shown(value)} must be a whole number from {low} to {high}{why}."
            )
            return None
        return int(value)

    return parse


def _database_path(reader: _Reader, value: str) -> Path | None:
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() != "sqlite":
        kind = f"a “{scheme[:20]}” URL" if sep else "not a URL"
        reader.problem(
            "DATABASE_URL must look like sqlite:///data/shop.db (relative) or "
            f"sqlite:////var/lib/shop/shop.db (absolute); got {kind}."
        )
        return None
    if not rest.startswith("/") or rest == "/":
        reader.problem(
            "DATABASE_URL needs a file path after sqlite:///, e.g. sqlite:///data/shop.db."
        )
        return None
    path = rest[1:]
    if path == ":memory:" or "mode=memory" in path:
        reader.problem(
            "DATABASE_URL cannot be an in-memory database: orders must survive a restart."
        )
        return None
    if "?" in path:
        reader.problem("DATABASE_URL must not have query parameters; give just the file path.")
        return None
    return Path(path)


def _admin_ids(reader: _Reader, value: str) -> frozenset[int] | None:
    items = [item.strip() for item in value.split(",")]
    bad = [item for item in items if item and not re.fullmatch(r"[0-9]+", item)]
    ids = frozenset(int(item) for item in items if item and item not in bad)
    if bad:
        listed = ", ".join(_shown(item) for item in bad[:5])
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


def _shipping_countries(reader: _Reader, value: str) -> tuple[str, ...] | None:
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
            f"not codes: {', '.join(_shown(u) for u in unknown[:5])}."
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


MAX_SUPPORT_CONTACT = 200


def _support_contact(reader: _Reader, value: str) -> str | None:
    """One line that buyers read in /help, /paysupport and the answer to a plain message."""
    if "\n" in value or utf16_len(value) > MAX_SUPPORT_CONTACT:
        reader.problem(
            f"SUPPORT_CONTACT must be one line of at most {MAX_SUPPORT_CONTACT} characters, "
            "e.g. @myshop_support or support@myshop.example."
        )
        return None
    return value


def _merged(
    environ: Mapping[str, str] | None, env_file: Path | None
) -> tuple[Mapping[str, str], dict[str, str], list[str]]:
    env = os.environ if environ is None else environ
    if env_file is None:
        return env, {}, []
    file_values, problems = _read_env(env_file)
    return env, file_values, problems


def configured_values(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> tuple[dict[str, str], list[str]]:
    """Every variable that is set (the environment over `.env`, empty values counting as unset,
    as `load_settings` reads them), and the problems of a malformed `.env` file.

    For whoever must look at the configuration before settling on how to start (bot.launch,
    the sandbox's own settings): one reading, the same rules as the shop's.
    """
    env, file_values, problems = _merged(environ, env_file)
    reader = _Reader(env, file_values)
    names = {*file_values, *env}
    values = {name: value for name in names if (value := reader.raw(name)) is not None}
    return values, problems


def database_path(url: str) -> Path:
    """The SQLite file a DATABASE_URL names; ConfigError says what is wrong with the URL."""
    reader = _Reader({}, {})
    path = _database_path(reader, url.strip())
    if path is None:
        raise ConfigError(reader.problems)
    return path


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Settings:
    """Build Settings, or raise one ConfigError that lists every problem found.

    The environment wins over `.env`, so a deployment can override a developer's file; empty
    values count as unset because `FOO=` in a template means "not filled in yet".
    """
    env, file_values, file_problems = _merged(environ, env_file)
    r = _Reader(env, file_values)
    r.problems.extend(file_problems)

    token = r.required("TELEGRAM_BOT_TOKEN", "create a bot with @BotFather and paste its token.")
    for name in ("TELEGRAM_BOT_TOKEN", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        if _PLACEHOLDER in (r.raw(name) or ""):
            r.problem(f"{name} still holds the placeholder from .env.example; put the real one.")
    if token is not None and _PLACEHOLDER not in token and not _TOKEN_RE.match(token):
        r.problem(
            "TELEGRAM_BOT_TOKEN does not look like a token from @BotFather "
            "(digits, a colon, then letters, digits, _ or -)."
        )

    def mode(value: str) -> TelegramMode | None:
        lowered = value.lower()
        if lowered in ("polling", "webhook"):
            return cast(TelegramMode, lowered)
        r.problem(f"TELEGRAM_MODE {_shown(value)} must be polling or webhook.")
        return None

    polling: TelegramMode = "polling"
    telegram_mode = r.parsed("TELEGRAM_MODE", polling, mode)

    webhook_secret = r.raw("TELEGRAM_WEBHOOK_SECRET")
    if webhook_secret is not None and not _WEBHOOK_SECRET_RE.match(webhook_secret):
        r.problem(
            "TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - "
            "(Telegram's rule for secret_token)."
        )

    def url(name: str, default: str, strip_slash: bool) -> str:
        value = r.raw(name)
        if value is None:
            return default
        problem = _url_problem(name, value)
        if problem:
            r.problem(problem)
            return default
        return value.rstrip("/") if strip_slash else value

    telegram_api_base_url = url("TELEGRAM_API_BASE_URL", DEFAULT_TELEGRAM_API_BASE_URL, False)

    stripe_key = r.required(
        "STRIPE_SECRET_KEY", "copy a secret key (sk_test_… or sk_live_…) from the Stripe Dashboard."
    )
    if stripe_key is not None and not stripe_key.startswith(_STRIPE_KEY_PREFIXES):
        hint = (
            " That is a publishable key; the server needs the secret one."
            if stripe_key.startswith("pk_")
            else ""
        )
        r.problem(
            "STRIPE_SECRET_KEY must start with sk_test_, sk_live_, rk_test_ or rk_live_." + hint
        )
    stripe_whsec = r.required(
        "STRIPE_WEBHOOK_SECRET",
        "copy the signing secret (whsec_…) of this server's webhook endpoint in Stripe.",
    )
    if stripe_whsec is not None and not stripe_whsec.startswith("whsec_"):
        r.problem("STRIPE_WEBHOOK_SECRET must start with whsec_ (the endpoint's signing secret).")
    stripe_api_base = url("STRIPE_API_BASE", DEFAULT_STRIPE_API_BASE, True)

    public_base_url = r.required(
        "PUBLIC_BASE_URL", "give the public https:// address where this server is reachable."
    )
    if public_base_url is not None:
        problem = _url_problem("PUBLIC_BASE_URL", public_base_url)
        if problem:
            r.problem(problem)
        elif _PLACEHOLDER in public_base_url:
            r.problem(
                "PUBLIC_BASE_URL still holds the placeholder from .env.example; "
                "give this server's public address."
            )
        elif telegram_mode == "webhook" and _is_telegram_cloud(telegram_api_base_url):
            parts = urlsplit(public_base_url)
            if parts.scheme != "https":
                r.problem(
                    "PUBLIC_BASE_URL must use https:// when TELEGRAM_MODE is webhook "
                    "(Telegram's servers deliver webhooks only over https; a self-hosted "
                    "Bot API server in TELEGRAM_API_BASE_URL also takes http://)."
                )
            elif parts.port is not None and parts.port not in _TELEGRAM_WEBHOOK_PORTS:
                r.problem(
                    f"PUBLIC_BASE_URL uses port {parts.port}, but Telegram delivers webhooks "
                    "only to ports 443, 80, 88 and 8443."
                )
        public_base_url = public_base_url.rstrip("/")

    host = r.raw("HOST") or "0.0.0.0"
    port = r.parsed("PORT", 8080, _int_in(r, "PORT", 1, 65535, ""))

    admin_ids: frozenset[int] = frozenset()
    admin_raw = r.required("ADMIN_IDS", "list the Telegram user ids of the shop's admins.")
    if admin_raw is not None:
        admin_ids = _admin_ids(r, admin_raw) or frozenset()

    database_path = r.parsed("DATABASE_URL", DEFAULT_DATABASE, lambda v: _database_path(r, v))

    def currency(value: str) -> str | None:
        code = value.lower()
        if code in SUPPORTED_CURRENCIES:
            return code
        r.problem(
            f"DEFAULT_CURRENCY {_shown(value)} is not a currency Stripe charges in; "
            "use a three-letter ISO code such as usd or eur."
        )
        return None

    default_currency = r.parsed("DEFAULT_CURRENCY", "usd", currency)

    def log_level(value: str) -> str | None:
        upper = value.upper()
        if upper in _LOG_LEVELS:
            return upper
        r.problem(f"LOG_LEVEL {_shown(value)} must be one of {', '.join(_LOG_LEVELS)}.")
        return None

    level = r.parsed("LOG_LEVEL", "INFO", log_level)
    promotion_codes = r.parsed("ALLOW_PROMOTION_CODES", False, _bool(r, "ALLOW_PROMOTION_CODES"))
    shipping = r.parsed(
        "SHIPPING_COUNTRIES", DEFAULT_SHIPPING_COUNTRIES, lambda v: _shipping_countries(r, v)
    )
    expires = r.parsed(
        "CHECKOUT_EXPIRES_MINUTES",
        60,
        _int_in(
            r, "CHECKOUT_EXPIRES_MINUTES", 30, 1440, " (Stripe's bounds for a Checkout Session)"
        ),
    )
    notify_expired = r.parsed("NOTIFY_EXPIRED", True, _bool(r, "NOTIFY_EXPIRED"))
    max_reserved = r.parsed(
        "MAX_RESERVED_PER_BUYER",
        10,
        _int_in(r, "MAX_RESERVED_PER_BUYER", 1, 100_000, " (units of one product per buyer)"),
    )
    support_contact = r.parsed("SUPPORT_CONTACT", None, lambda v: _support_contact(r, v))

    if r.problems:
        raise ConfigError(r.problems)
    assert token is not None and stripe_key is not None and stripe_whsec is not None
    assert public_base_url is not None
    return Settings(
        telegram_bot_token=token,
        telegram_api_base_url=telegram_api_base_url,
        telegram_mode=telegram_mode,
        telegram_webhook_secret=webhook_secret or _derived_webhook_secret(token),
        stripe_secret_key=stripe_key,
        stripe_webhook_secret=stripe_whsec,
        stripe_api_base=stripe_api_base,
        public_base_url=public_base_url,
        host=host,
        port=port,
        admin_ids=admin_ids,
        database_path=database_path,
        default_currency=default_currency,
        log_level=level,
        allow_promotion_codes=promotion_codes,
        shipping_countries=shipping,
        checkout_expires_minutes=expires,
        notify_expired=notify_expired,
        max_reserved_per_buyer=max_reserved,
        support_contact=support_contact,
    )


def _is_telegram_cloud(api_base_url: str) -> bool:
    """Whether the Bot API server is Telegram's own, whose webhook rules (https, four ports)
    bind us; a self-hosted Bot API server accepts plain http and any port."""
    return urlsplit(api_base_url).hostname == _TELEGRAM_CLOUD_HOST


def _derived_webhook_secret(token: str) -> str:
    """Stable across restarts and replicas without one more variable to set, yet not the token
    itself, which must never travel in a header."""
    return hashlib.sha256(f"tg-webhook:{token}".encode()).hexdigest()[:48]


def configured_database_path(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Path:
    """DATABASE_URL's file alone (environment first, then `.env`), for tools such as
    `python -m storage.backup` that need the database but none of the credentials."""
    env, file_values, file_problems = _merged(environ, env_file)
    r = _Reader(env, file_values)
    r.problems.extend(file_problems)
    path = r.parsed("DATABASE_URL", DEFAULT_DATABASE, lambda v: _database_path(r, v))
    if r.problems:
        raise ConfigError(r.problems)
    return path
