"""Admin: /sales — orders, units, revenue, refunds and net for today (UTC), the last 7 and 30
days and all time (windows with the same figures shown once), and the best-selling products.

Amounts in different currencies are never added together: every figure is per currency. The
numbers come from aggregate queries in storage/sales.py.

Buttons: `bot.callbacks`' SALES_OVERVIEW (refreshed) and SALES_WINDOW (one window with its top
products); nothing else, so forged data can only ask for a view an admin may see anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot import callbacks as cb
from bot.admin.order_texts import money
from bot.context import ShopContext
from bot.shared import show_page, tapped
from bot.texts import clip
from shop.context import Shop
from shop.i18n import N_, Lang
from storage import sales
from storage.clock import now

DAY = 86_400
TOP = 5
# Room left under Telegram's 4096 characters (the HTML tags count towards the limit too).
TEXT_BUDGET = 3800


@dataclass(frozen=True)
class Window:
    code: str


WINDOWS = (Window("d"), Window("w"), Window("m"), Window("a"))
_WINDOW_BY_CODE = {w.code: w for w in WINDOWS}
assert tuple(_WINDOW_BY_CODE) == cb.SALES_WINDOWS, "the codec spells the same windows"
# Each window's heading, and its button's shorter label.
_LABELS = {
    "d": N_("Today (UTC)"),
    "w": N_("Last 7 days"),
    "m": N_("Last 30 days"),
    "a": N_("All time"),
}
_SHORT = {"d": N_("Today"), "w": N_("7 days"), "m": N_("30 days"), "a": N_("All time")}


def window_label(lang: Lang, window: Window) -> str:
    return lang.t(_LABELS[window.code])


def window_start(window: Window, at: int) -> int:
    """The first second of the window ending at `at`; "today" starts at midnight UTC."""
    if window.code == "d":
        return at - at % DAY
    if window.code == "w":
        return at - 7 * DAY
    if window.code == "m":
        return at - 30 * DAY
    return 0


def _fit(lang: Lang, lines: list[str]) -> str:
    """Join lines, leaving out the tail (and saying so) rather than exceed Telegram's limit."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > TEXT_BUDGET:
            kept.append(lang.t("… (more not shown)"))
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def _totals_lines(lang: Lang, rows: list[sales.CurrencyTotals]) -> list[str]:
    if not rows:
        return [lang.t("No sales.")]
    orders_count = lang.nt("{n} order", "{n} orders", sum(r.orders for r in rows))
    units = lang.nt("{n} unit", "{n} units", sum(r.units for r in rows))
    lines = [f"{orders_count} · {units}"]
    for r in rows:
        lines.append(
            lang.t(
                "{currency}: revenue {revenue} · refunds {refunds} · net <b>{net}</b>",
                currency=r.currency.upper(),
                revenue=money(lang, r.revenue, r.currency),
                refunds=money(lang, r.refunded, r.currency),
                net=money(lang, r.net, r.currency),
            )
        )
    return lines


def _collapsed(
    by_window: list[tuple[Window, list[sales.CurrencyTotals]]],
) -> list[tuple[list[Window], list[sales.CurrencyTotals]]]:
    """Windows in a row with the same figures, as one block: when every sale is from today,
    "Today · Last 7 days · Last 30 days · All time" once instead of four identical blocks."""
    blocks: list[tuple[list[Window], list[sales.CurrencyTotals]]] = []
    for window, rows in by_window:
        if blocks and blocks[-1][1] == rows:
            blocks[-1][0].append(window)
        else:
            blocks.append(([window], rows))
    return blocks


def overview_text(
    lang: Lang,
    by_window: list[tuple[Window, list[sales.CurrencyTotals]]],
    top: list[sales.ProductSales],
    at: int,
) -> str:
    """Every window's figures (identical ones once) and the all-time best sellers."""
    lines = [lang.t("📊 <b>Sales</b> · as of {moment}", moment=lang.moment(at))]
    for windows, rows in _collapsed(by_window):
        label = " · ".join(window_label(lang, w) for w in windows)
        lines += ["", f"<b>{label}</b>", *_totals_lines(lang, rows)]
    return _fit(lang, lines + _top_lines(lang, top, all_time=True))


def window_text(
    lang: Lang,
    window: Window,
    rows: list[sales.CurrencyTotals],
    top: list[sales.ProductSales],
    at: int,
) -> str:
    head = lang.t(
        "📊 <b>Sales · {window}</b> · as of {moment}",
        window=window_label(lang, window),
        moment=lang.moment(at),
    )
    return _fit(lang, [head, *_totals_lines(lang, rows), *_top_lines(lang, top, all_time=False)])


def _top_lines(lang: Lang, top: list[sales.ProductSales], *, all_time: bool) -> list[str]:
    if not top:
        return []
    if all_time:
        head = lang.t("🏆 <b>Top {top} products by revenue</b> (all time)", top=TOP)
    else:
        head = lang.t("🏆 <b>Top {top} products by revenue</b>", top=TOP)
    lines = ["", head]
    currency = None
    for p in top:
        if p.currency != currency:
            currency = p.currency
            lines.append(f"<i>{currency.upper()}</i>")
        lines.append(
            lang.nt(
                "{rank}. {title} — {revenue} · {n} unit",
                "{rank}. {title} — {revenue} · {n} units",
                p.units,
                rank=p.rank,
                title=escape(clip(p.title, 48)),
                revenue=money(lang, p.revenue, p.currency),
            )
        )
    return lines


def keyboard(lang: Lang, selected: str | None) -> InlineKeyboardMarkup:
    """One button per window (the shown one marked) and the way back to the overview."""
    windows = [
        InlineKeyboardButton(
            ("• " if w.code == selected else "") + lang.t(_SHORT[w.code]),
            callback_data=cb.SALES_WINDOW.encode(w.code),
        )
        for w in WINDOWS
    ]
    back = lang.t("« Overview") if selected else lang.t("🔄 Refresh")
    return InlineKeyboardMarkup(
        [windows, [InlineKeyboardButton(back, callback_data=cb.SALES_OVERVIEW.encode())]]
    )


async def _overview(lang: Lang, shop: Shop) -> str:
    at = now()
    by_window = [
        (w, await sales.totals(shop.db.reader, since=window_start(w, at))) for w in WINDOWS
    ]
    top = await sales.top_products(shop.db.reader, since=0, limit=TOP)
    return overview_text(lang, by_window, top, at)


async def _window(lang: Lang, shop: Shop, window: Window) -> str:
    at = now()
    since = window_start(window, at)
    rows = await sales.totals(shop.db.reader, since=since)
    top = await sales.top_products(shop.db.reader, since=since, limit=TOP)
    return window_text(lang, window, rows, top, at)


async def sales_command(update: Update, context: ShopContext) -> None:
    """/sales (admins): the four windows at a glance (identical ones once) with the all-time
    top products, and a button for each window's own."""
    assert update.effective_message is not None
    text = await _overview(context.lang, context.shop)
    await update.effective_message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=keyboard(context.lang, None)
    )


async def overview(update: Update, context: ShopContext) -> None:
    """Overview / Refresh: the summary of every window, in place."""
    if (tap := await tapped(update, cb.SALES_OVERVIEW)) is None:
        return
    query, _ = tap
    await query.answer()
    page = await _overview(context.lang, context.shop)
    await show_page(query, page, keyboard(context.lang, None))


async def window(update: Update, context: ShopContext) -> None:
    """A window button: that window with its top products, in place."""
    if (tap := await tapped(update, cb.SALES_WINDOW)) is None:
        return
    query, data = tap
    await query.answer()
    chosen = _WINDOW_BY_CODE[data.word(0)]
    page = await _window(context.lang, context.shop, chosen)
    await show_page(query, page, keyboard(context.lang, chosen.code))
