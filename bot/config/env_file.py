"""Where settings come from: the environment over an optional `.env` file.

The environment wins over `.env`, so a deployment can override a developer's file. A malformed
`.env` line is a configuration problem like any other, reported with the rest.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from bot.config.problems import ConfigError, Reader

__all__ = ["configured_values", "read_env_file", "reader_for"]

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


def reader_for(environ: Mapping[str, str] | None, env_file: Path | None) -> Reader:
    """A Reader over the environment (the process's own when None) and `.env` (none when
    None), already holding the file's problems so that they lead the list."""
    env = os.environ if environ is None else environ
    if env_file is None:
        return Reader(env, {})
    file_values, problems = _read_env(env_file)
    reader = Reader(env, file_values)
    reader.problems.extend(problems)
    return reader


def configured_values(
    environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
) -> tuple[dict[str, str], list[str]]:
    """Every variable that is set (the environment over `.env`, empty values counting as unset,
    as `load_settings` reads them), and the problems of a malformed `.env` file.

    For whoever must look at the configuration before settling on how to start (bot.launch,
    the sandbox's own settings): one reading, the same rules as the shop's.
    """
    reader = reader_for(environ, env_file)
    names = {*reader.file_values, *reader.environ}
    values = {name: value for name in names if (value := reader.raw(name)) is not None}
    return values, reader.problems
