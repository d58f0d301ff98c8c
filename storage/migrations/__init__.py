"""The numbered schema steps, one file per step and dialect: `<dialect>/NNNN_name.sql`.

A step has the same number in every dialect, so a database's version means the same schema
whichever engine holds it. PostgreSQL joined at step 11: its first file creates that schema in
one step, and every later step has a file in both folders.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_STEP_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
DIALECTS = ("sqlite", "postgresql")


@cache
def steps(dialect: str) -> tuple[tuple[int, str], ...]:
    """(number, SQL) of every step of one dialect, in order, checked to have no gaps."""
    found = []
    for entry in resources.files(__name__).joinpath(dialect).iterdir():
        match = _STEP_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _ in found]
    if not numbers or numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise RuntimeError(f"{dialect} migrations must be numbered without gaps: {numbers}")
    return tuple(found)


def latest_version() -> int:
    """The schema version every dialect reaches once all its steps ran (the same number)."""
    latest = {dialect: steps(dialect)[-1][0] for dialect in DIALECTS}
    if len(set(latest.values())) != 1:
        raise RuntimeError(f"every dialect must end at the same step: {latest}")
    return latest["sqlite"]


class SchemaTooNew(Exception):
    """The database was migrated by a newer version of the shop than this code (a rollback
    deploy): this code does not know its tables, so it must not run on them."""

    def __init__(self, found: int, known: int) -> None:
        self.found, self.known = found, known
        super().__init__(
            f"its schema is version {found}, newer than this code's {known}: a newer version "
            "of the shop migrated it. Run that version (or one newer), or restore a backup made "
            f"at schema {known}"
        )
