"""Telegram's measure of text: its limits (4096 characters of a message, 32 of an invoice's
title, …) count UTF-16 code units, so an emoji is two. One measure and one way to cut, for the
chat edge (bot/texts.py re-exports them) and the use-cases that build text Telegram checks
(the Stars invoice, shop/stars.py)."""

from __future__ import annotations


def utf16_len(text: str) -> int:
    """The length Telegram measures its limits in: UTF-16 code units, so 😀 counts two.

    The one measure for every limit, from the admin's fields to the messages we build."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """Shorten plain text (before escaping) to `limit` UTF-16 units, marking the cut."""
    if utf16_len(text) <= limit:
        return text
    units = 1  # the "…" takes one
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return text[:index].rstrip() + "…"
    return text
