"""Registers the admin handlers, ahead of the buyer's, so an admin's command reaches them first."""

from __future__ import annotations

from telegram.ext import Application

from bot import admin_orders, admin_products, admin_refund, admin_sales, admin_shipping


def register(application: Application, admin_ids: frozenset[int]) -> None:  # type: ignore[type-arg]
    # Products first: while its /addproduct dialog is open, the dialog gets the admin's text.
    for module in (admin_products, admin_shipping, admin_orders, admin_refund, admin_sales):
        application.add_handlers(module.handlers(admin_ids))
