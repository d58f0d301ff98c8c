"""DATABASE_URL: which SQLite file holds the orders, read alone by tools that need only it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.config.env_file import reader_for
from bot.config.problems import ConfigError, Reader

__all__ = ["DEFAULT_DATABASE", "configured_database_path", "database_path", "read_database"]

DEFAULT_DATABASE = Path("data/shop.db")


def read_database(reader: Reader) -> Path:
    """DATABASE_URL's file, or the default when unset (or, after reporting it, invalid)."""
    return reader.parsed("DATABASE_URL", DEFAULT_DATABASE, lambda value: _parse(reader, value))


def database_path(url: str) -> Path:
    """The SQLite file a DATABASE_URL names; ConfigError says what is wrong with the URL."""
    reader = Reader({}, {})
    path = _parse(reader, url.strip())
    if path is None:
        raise ConfigError(reader.problems)
    return path


def configured_database_path(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> Path:
    """DATABASE_URL's file alone (environment first, then `.env`), for tools such as
    `python -m storage.backup` that need the database but none of the credentials."""
    reader = reader_for(environ, env_file)
    path = read_database(reader)
    if reader.problems:
        raise ConfigError(reader.problems)
    return path


def _parse(reader: Reader, value: str) -> Path | None:
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
