"""DATABASE_URL: the SQLite file (the default) or PostgreSQL database that holds the orders,
read alone by tools that need only it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import psycopg
import psycopg.conninfo

from bot.config.env_file import reader_for
from bot.config.problems import ConfigError, Reader
from storage.db import DatabaseTarget, PostgresServer, SqliteFile

__all__ = ["DEFAULT_DATABASE", "configured_database", "database_target", "read_database"]

DEFAULT_DATABASE: DatabaseTarget = SqliteFile(Path("data/shop.db"))
POSTGRES_SCHEMES = ("postgresql", "postgres")


def read_database(reader: Reader) -> DatabaseTarget:
    """DATABASE_URL's database, or the default file when unset (or, after reporting it,
    invalid)."""
    return reader.parsed("DATABASE_URL", DEFAULT_DATABASE, lambda value: _parse(reader, value))


def database_target(url: str) -> DatabaseTarget:
    """The database a DATABASE_URL names; ConfigError says what is wrong with the URL."""
    reader = Reader({}, {})
    target = _parse(reader, url.strip())
    if target is None:
        raise ConfigError(reader.problems)
    return target


def configured_database(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> DatabaseTarget:
    """DATABASE_URL's database alone (environment first, then `.env`), for tools such as
    `python -m storage.backup` that need the database but none of the credentials."""
    reader = reader_for(environ, env_file)
    target = read_database(reader)
    if reader.problems:
        raise ConfigError(reader.problems)
    return target


def _parse(reader: Reader, value: str) -> DatabaseTarget | None:
    scheme, sep, rest = value.partition("://")
    if sep and scheme.lower() in POSTGRES_SCHEMES:
        return _postgres(reader, value)
    if not sep or scheme.lower() != "sqlite":
        kind = f"a “{scheme[:20]}” URL" if sep else "not a URL"
        reader.problem(
            "DATABASE_URL must look like sqlite:///data/shop.db (relative), "
            "sqlite:////var/lib/shop/shop.db (absolute) or "
            f"postgresql://user:password@host:5432/shop; got {kind}."
        )
        return None
    path = _sqlite_path(reader, rest)
    return None if path is None else SqliteFile(path)


def _postgres(reader: Reader, value: str) -> PostgresServer | None:
    """A PostgreSQL URL libpq can read, and that names a database (the password is never
    repeated in a message)."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(value)
    except psycopg.ProgrammingError:
        reader.problem(
            "DATABASE_URL is not a PostgreSQL URL libpq can read; it must look like "
            "postgresql://user:password@host:5432/shop (percent-encode special characters)."
        )
        return None
    ports = str(params.get("port") or "5432").split(",")
    if not all(port.isdigit() and 0 < int(port) < 65536 for port in ports):
        reader.problem(
            "DATABASE_URL has a port that is not a number from 1 to 65535: "
            "postgresql://user:password@host:5432/shop."
        )
        return None
    if not params.get("dbname"):
        reader.problem(
            "DATABASE_URL must name the database after the host: "
            "postgresql://user:password@host:5432/shop."
        )
        return None
    return PostgresServer(value)


def _sqlite_path(reader: Reader, rest: str) -> Path | None:
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
