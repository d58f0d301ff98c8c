"""The people a sandbox visitor can play: two buyers and the shop's admin.

Fixed ids so that the page can list them and ADMIN_IDS can name the admin before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Persona:
    user_id: int
    name: str
    role: Literal["buyer", "admin"]


BUYERS = (Persona(700001, "Alice", "buyer"), Persona(700002, "Bob", "buyer"))
ADMIN = Persona(900001, "Morgan", "admin")
PERSONAS: tuple[Persona, ...] = (*BUYERS, ADMIN)


def persona(user_id: int) -> Persona:
    """The persona with this id; ValueError for anyone else (the page may only play these)."""
    for candidate in PERSONAS:
        if candidate.user_id == user_id:
            return candidate
    raise ValueError(f"{user_id} is not one of the sandbox's personas")
