"""What /paysupport says, as Telegram HTML: the merchant's payment-support terms
(PAYSUPPORT_TEXT, else a default that states who refunds and how soon), the buyer's recent
orders, how to ask, and the question as the admins receive it.

Telegram's terms for bots that take payments ask for a /paysupport command that answers how to
get help with a payment, and Telegram's own support does not handle purchases made in bots, so
the text says that the merchant answers. Merchant and buyer text is escaped, and every part is
clipped so the messages stay under Telegram's 4096 characters by construction. The buyer reads
their language (the merchant's own PAYSUPPORT_TEXT as the merchant wrote it), each admin theirs.
"""

from __future__ import annotations

from html import escape

from bot.texts import clip, order_state, what_was_bought
from shop.i18n import Lang, Verbatim
from storage.models import Order

QUESTION_CHARS = 3000  # of the buyer's question passed on; the rest of the message is < 600
ORDER_TITLE_CHARS = 60  # what_was_bought's width in the list and in the admin's message


def default_terms(lang: Lang) -> str:
    """The terms when the merchant set no PAYSUPPORT_TEXT: who answers, and how refunds go."""
    return lang.t(
        "Purchases in this bot are handled by the merchant, not by Telegram: Telegram's support "
        "can't help with them. If something went wrong with a payment, or your goods didn't "
        "arrive or aren't as described, ask below: the merchant answers within 2 days and "
        "refunds what can't be put right, back the way you paid (a card refund takes your bank "
        "5–10 days to show; Telegram Stars return to your balance at once)."
    )


def order_line(lang: Lang, order: Order) -> str:
    """One order in the list and in the admin's message: number, goods, total, state."""
    return lang.t(
        "<b>#{number}</b> · {goods} · {total} · {state}",
        number=order.id,
        goods=escape(what_was_bought(lang, order, ORDER_TITLE_CHARS)),
        total=escape(lang.money(order.amount_paid, order.currency)),
        state=order_state(lang, order),
    )


def pay_support(lang: Lang, terms: str | None, contact: str | None, recent: list[Order]) -> str:
    """/paysupport: the terms, the merchant's contact when set, the buyer's recent orders (the
    keyboard has a button per order) and the invitation to write the question now."""
    parts = [lang.t("🧾 <b>Payment support</b>"), escape(terms or default_terms(lang))]
    if contact:
        parts.append(
            lang.t(
                "💬 You can also contact the merchant directly: {contact}", contact=escape(contact)
            )
        )
    if recent:
        listed = "\n".join(order_line(lang, order) for order in recent)
        parts.append(lang.t("<b>Your recent orders</b>\n{orders}", orders=listed))
        parts.append(
            lang.t(
                "✍️ Tap an order below to ask about it, or just write your question now: I'll "
                "pass it on to the merchant. /cancel if you changed your mind."
            )
        )
    else:
        parts.append(lang.t("You have no orders yet."))
        parts.append(
            lang.t(
                "✍️ Write your question now: I'll pass it on to the merchant. /cancel if you "
                "changed your mind."
            )
        )
    return "\n\n".join(parts)


def ask_about(lang: Lang, order: Order) -> str:
    """After Ask about this order: the buyer's next message goes with that order."""
    return lang.t(
        "✍️ Write your question about order {order} now: I'll pass it on to the merchant with "
        "the order. /cancel if you changed your mind.",
        order=order_line(lang, order),
    )


def ask_button(lang: Lang, order: Order) -> str:
    return lang.t("❓ Ask about order #{number}", number=order.id)


def question_sent(lang: Lang, order: Order | None) -> str:
    if order is not None:
        return lang.t(
            "📨 I passed your question about order #{number} on to the merchant; they will get "
            "back to you. /orders shows your orders.",
            number=order.id,
        )
    return lang.t(
        "📨 I passed your question on to the merchant; they will get back to you. "
        "/orders shows your orders."
    )


def not_sent(lang: Lang) -> str:
    """No admin could be reached just now (Telegram refused every send)."""
    return lang.t(
        "😕 I couldn't reach the merchant just now. Please send your question again in a minute."
    )


def question_cancelled(lang: Lang) -> str:
    return lang.t("✖️ Your question was not sent.")


def text_please(lang: Lang) -> str:
    """The buyer sent a sticker or a file while the question was open."""
    return lang.t("Please write your question as text (or /cancel).")


def order_unknown(lang: Lang) -> str:
    """An Ask button for an order that is not the buyer's (forged, or not theirs)."""
    return lang.t("I can't find that order among yours. See /orders.")


def support_question(
    lang: Lang, name: str, user_id: int, username: str | None, order: Order | None, text: str
) -> str:
    """A buyer's /paysupport question as each admin receives it, in the admin's language
    `lang`: who asks (id and a mention that opens their chat, so the admin can answer them),
    about which order, and what."""
    who = escape(clip(name, 64)) or lang.t("unknown")
    if username:
        who = f"{who} @{escape(username)}"
    heading = lang.t(
        '🧾 <b>Payment support question</b> from {who} (id <code>{id}</code>, <a href="{link}">'
        "open their chat</a>)",
        who=who,
        id=user_id,
        link=Verbatim(f"tg://user?id={user_id}"),
    )
    if order is not None:
        about = lang.t("Order {order}", order=order_line(lang, order))
    else:
        about = lang.t("No order chosen.")
    return f"{heading}\n{about}\n\n{escape(clip(text, QUESTION_CHARS))}"
