"""What /paysupport says, as Telegram HTML: the merchant's payment-support terms
(PAYSUPPORT_TEXT, else a default that states who refunds and how soon), the buyer's recent
orders, how to ask, and the question as the admins receive it.

Telegram's terms for bots that take payments ask for a /paysupport command that answers how to
get help with a payment, and Telegram's own support does not handle purchases made in bots, so
the text says that the merchant answers. Merchant and buyer text is escaped, and every part is
clipped so the messages stay under Telegram's 4096 characters by construction.
"""

from __future__ import annotations

from html import escape

from bot.texts import clip, order_state, what_was_bought
from shop.i18n import ENGLISH
from shop.money import format_money
from storage.models import Order

DEFAULT_TERMS = (
    "Purchases in this bot are handled by the merchant, not by Telegram: Telegram's support "
    "can't help with them. If something went wrong with a payment, or your goods didn't arrive "
    "or aren't as described, ask below: the merchant answers within 2 days and refunds what "
    "can't be put right, back the way you paid (a card refund takes your bank 5–10 days to "
    "show; Telegram Stars return to your balance at once)."
)
QUESTION_CHARS = 3000  # of the buyer's question passed on; the rest of the message is < 600
ORDER_TITLE_CHARS = 60  # what_was_bought's width in the list and in the admin's message


def order_line(order: Order) -> str:
    """One order in the list and in the admin's message: number, goods, total, state."""
    total = format_money(order.amount_paid, order.currency)
    return (
        f"<b>#{order.id}</b> · {escape(what_was_bought(ENGLISH, order, ORDER_TITLE_CHARS))} · "
        f"{escape(total)} · {order_state(ENGLISH, order)}"
    )


def pay_support(terms: str | None, contact: str | None, recent: list[Order]) -> str:
    """/paysupport: the terms, the merchant's contact when set, the buyer's recent orders (the
    keyboard has a button per order) and the invitation to write the question now."""
    parts = ["🧾 <b>Payment support</b>", escape(terms or DEFAULT_TERMS)]
    if contact:
        parts.append(f"💬 You can also contact the merchant directly: {escape(contact)}")
    if recent:
        listed = "\n".join(order_line(order) for order in recent)
        parts.append(f"<b>Your recent orders</b>\n{listed}")
        ask = "Tap an order below to ask about it, or just write your question now"
    else:
        parts.append("You have no orders yet.")
        ask = "Write your question now"
    parts.append(f"✍️ {ask}: I'll pass it on to the merchant. /cancel if you changed your mind.")
    return "\n\n".join(parts)


def ask_about(order: Order) -> str:
    """After Ask about this order: the buyer's next message goes with that order."""
    return (
        f"✍️ Write your question about order {order_line(order)} now: I'll pass it on to the "
        "merchant with the order. /cancel if you changed your mind."
    )


def question_sent(order: Order | None) -> str:
    about = f" about order #{order.id}" if order is not None else ""
    return (
        f"📨 I passed your question{about} on to the merchant; they will get back to you. "
        "/orders shows your orders."
    )


def not_sent() -> str:
    """No admin could be reached just now (Telegram refused every send)."""
    return "😕 I couldn't reach the merchant just now. Please send your question again in a minute."


def question_cancelled() -> str:
    return "✖️ Your question was not sent."


def text_please() -> str:
    """The buyer sent a sticker or a file while the question was open."""
    return "Please write your question as text (or /cancel)."


def order_unknown() -> str:
    """An Ask button for an order that is not the buyer's (forged, or not theirs)."""
    return "I can't find that order among yours. See /orders."


def support_question(
    name: str, user_id: int, username: str | None, order: Order | None, text: str
) -> str:
    """A buyer's /paysupport question as each admin receives it: who asks (id and a mention
    that opens their chat, so the admin can answer them), about which order, and what."""
    handle = f" @{escape(username)}" if username else ""
    who = escape(clip(name, 64)) or "unknown"
    about = f"Order {order_line(order)}" if order is not None else "No order chosen."
    return (
        f"🧾 <b>Payment support question</b> from {who}{handle} "
        f'(id <code>{user_id}</code>, <a href="tg://user?id={user_id}">open their chat</a>)\n'
        f"{about}\n\n{escape(clip(text, QUESTION_CHARS))}"
    )
