"""Admin: /sales — orders, units, revenue, refunds and net for today (UTC), the last 7 and 30
days and all time (windows with the same figures shown once), and the best-selling products.

Amounts in different currencies are never added together: every figure is per currency. The
numbers come from aggregate queries in storage/sales.py.

Buttons: `bot.callbacks`' SALES_OVERVIEW (refreshed) and SALES_WINDOW (one window with its top
products); nothing else, so forged data can only ask for a view an admin may see anyway.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from bot import callbacks as cb
from bot.admin.orders import money
from bot.context import ShopContext
from bot.shared import show_page, tapped
from bot.texts import clip
from shop.context import Shop
from storage import sales
from storage.clock import now

DAY = 86_400
TOP = 5
# Room left under Telegram's 4096 characters (the HTML tags count towards the limit too).
TEXT_BUDGET = 3800


@dataclass(frozen=True)
class Window:
    code: str
    label: str
    short: str


WINDOWS = (
    Window("d", "Today (UTC)", "Today"),
    Window("w", "Last 7 days", "7 days"),
    Window("m", "Last 30 days", "30 days"),
    Window("a", "All time", "All time"),
)
_WINDOW_BY_CODE = {w.code: w for w in WINDOWS}
assert tuple(_WINDOW_BY_CODE) == cb.SALES_WINDOWS, "the codec spells the same windows"


def window_start(window: Window, at: int) -> int:
    """The first second of the window ending at `at`; "today" starts at midnight UTC."""
    if window.code == "d":
        return at - at % DAY
    if window.code == "w":
        return at - 7 * DAY
    if window.code == "m":
        return at - 30 * DAY
    return 0


def _fit(lines: list[str]) -> str:
    """Join lines, leaving out the tail (and saying so) rather than exceed Telegram's limit."""
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > TEXT_BUDGET:
            kept.append("… (more not shown)")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept)


def _totals_lines(rows: list[sales.CurrencyTotals]) -> list[str]:
    if not rows:
        return ["No sales."]
    orders_count = sum(r.orders for r in rows)
    units = sum(r.units for r in rows)
    lines = [f"{orders_count} order{'s' * (orders_count != 1)} · {units} unit{'s' * (units != 1)}"]
    for r in rows:
        lines.append(
            f"{r.currency.upper()}: revenue {money(r.revenue, r.currency)}"
            f" · refunds {money(r.refunded, r.currency)} · net <b>{money(r.net, r.currency)}</b>"
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
    by_window: list[tuple[Window, list[sales.CurrencyTotals]]],
    top: list[sales.ProductSales],
    at: int,
) -> str:
    """Every window's figures (identical ones once) and the all-time best sellers."""
    stamp = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"📊 <b>Sales</b> · as of {stamp}"]
    for windows, rows in _collapsed(by_window):
        label = " · ".join(w.label for w in windows)
        lines += ["", f"<b>{label}</b>", *_totals_lines(rows)]
    return _fit(lines + _top_lines(top, "all time"))


def window_text(
    window: Window, rows: list[sales.CurrencyTotals], top: list[sales.ProductSales], at: int
) -> str:
    stamp = dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"📊 <b>Sales · {window.label}</b> · as of {stamp}", *_totals_lines(rows)]
    return _fit(lines + _top_lines(top, None))


def _top_lines(top: list[sales.ProductSales], span: str | None) -> list[str]:
    if not top:
        return []
    suffix = f" ({span})" if span else ""
    lines = ["", f"🏆 <b>Top {TOP} products by revenue</b>{suffix}"]
    currency = None
    for p in top:
        if p.currency != currency:
            currency = p.currency
            lines.append(f"<i>{currency.upper()}</i>")
        lines.append(
            f"{p.rank}. {escape(clip(p.title, 48))} — {money(p.revenue, p.currency)}"
            f" · {p.units} unit{'s' * (p.units != 1)}"
        )
    return lines


def keyboard(selected: str | None) -> InlineKeyboardMarkup:
    """One button per window (the shown one marked) and the way back to the overview."""
    windows = [
        InlineKeyboardButton(
            ("• " if w.code == selected else "") + w.short,
            callback_data=cb.SALES_WINDOW.encode(w.code),
        )
        for w in WINDOWS
    ]
    back = "« Overview" if selected else "🔄 Refresh"
    return InlineKeyboardMarkup(
        [windows, [InlineKeyboardButton(back, callback_data=cb.SALES_OVERVIEW.encode())]]
    )


async def _overview(shop: Shop) -> str:
    at = now()
    by_window = [
        (w, await sales.totals(shop.db.reader, since=window_start(w, at))) for w in WINDOWS
    ]
    top = await sales.top_products(shop.db.reader, since=0, limit=TOP)
    return overview_text(by_window, top, at)


async def _window(shop: Shop, window: Window) -> str:
    at = now()
    since = window_start(window, at)
    rows = await sales.totals(shop.db.reader, since=since)
    top = await sales.top_products(shop.db.reader, since=since, limit=TOP)
    return window_text(window, rows, top, at)


async def sales_command(update: Update, context: ShopContext) -> None:
    """/sales (admins): the four windows at a glance (identical ones once) with the all-time
    top products, and a button for each window's own."""
    assert update.effective_message is not None
    text = await _overview(context.shop)
    await update.effective_message.reply_text(
        text, parse_mode=ParseMode.HTML, reply_markup=keyboard(None)
    )


async def overview(update: Update, context: ShopContext) -> None:
    """Overview / Refresh: the summary of every window, in place."""
    if (tap := await tapped(update, cb.SALES_OVERVIEW)) is None:
        return
    query, _ = tap
    await query.answer()
    await show_page(query, await _overview(context.shop), keyboard(None))


async def window(update: Update, context: ShopContext) -> None:
    """A window button: that window with its top products, in place."""
    if (tap := await tapped(update, cb.SALES_WINDOW)) is None:
        return
    query, data = tap
    await query.answer()
    chosen = _WINDOW_BY_CODE[data.word(0)]
    await show_page(query, await _window(context.shop, chosen), keyboard(chosen.code))
