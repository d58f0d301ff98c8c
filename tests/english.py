"""The shop's source language as the registry loads it, for tests that compare what the bot
said with a text rendered in English (test users default to English)."""

from __future__ import annotations

from shop.i18n import Languages

EN = Languages.load(["en"]).default
