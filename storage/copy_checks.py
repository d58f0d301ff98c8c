"""The figures `python -m storage.copy` compares on both databases before the copy commits.

Counting rows shows that nothing was left behind; the totals show that what arrived is the
same money and the same stock (a column shifted or truncated on the way would change a sum);
and the aggregates, summed anew from the copied orders, show that /sales and the order counts
will read on the new database exactly what they read on the old.

An aggregate row whose figures are all zero is left out of the comparison: the source keeps
one where every order of a status moved on (a `pending` count of 0), while the target, whose
orders arrived in their final state, never made it. It reads the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.copy_tables import COPIED, REBUILT, row_counts
from storage.sql import Connection, fetch_all, fetch_one

# Sums that a copy must keep: the units sold, the money refunded; and per currency (amounts in
# different currencies are never added together) the money of the orders.
_TOTALS = {
    "order_lines.quantity": "SELECT COALESCE(SUM(quantity), 0) FROM order_lines",
    "refunds.amount": "SELECT COALESCE(SUM(amount), 0) FROM refunds",
}
ORDER_SUMS = ("amount_total", "amount_discount", "amount_charged", "amount_refunded")
_ORDER_SUMS = (
    f"SELECT currency, {', '.join(f'COALESCE(SUM({name}), 0)' for name in ORDER_SUMS)}"
    " FROM orders GROUP BY currency"
)
STOCK_STATES = ("available", "reserved", "sold")

AggregateRows = tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class Figures:
    """One database's counts, totals and aggregate rows, as the copy compares them."""

    rows: dict[str, int]  # per copied table
    # named sums (see _TOTALS), `orders.<currency>.<column>` and `stock_items.<state>`
    totals: dict[str, int]
    aggregates: dict[str, AggregateRows]  # per rebuilt table: its non-zero rows, sorted

    def differences(self, target: Figures) -> list[str]:
        """What the target (`target`) has that the source (`self`) does not, one phrase each."""
        found = [
            f"{name}: {self.rows[name]} rows on the source, {target.rows.get(name)} on the target"
            for name in self.rows
            if self.rows[name] != target.rows.get(name)
        ]
        sums = [(name, self.totals.get(name), target.totals.get(name)) for name in self.totals]
        sums += [(name, None, n) for name, n in target.totals.items() if name not in self.totals]
        found += [
            f"{name}: {theirs} on the source, {ours} on the target"
            for name, theirs, ours in sums
            if theirs != ours
        ]
        for name, rows in self.aggregates.items():
            theirs = target.aggregates.get(name, ())
            if rows != theirs:
                only_source = sorted(set(rows) - set(theirs))[:3]
                only_target = sorted(set(theirs) - set(rows))[:3]
                found.append(
                    f"{name} rebuilt differently: the source has {only_source},"
                    f" the target {only_target}"
                )
        return found


async def figures_of(conn: Connection, columns: dict[str, tuple[str, ...]]) -> Figures:
    """The figures of one database; `columns` are the tables' columns (the same on both
    sides, in one order, so that aggregate rows compare as tuples)."""
    totals = {}
    for name, sql in _TOTALS.items():
        row = await fetch_one(conn, sql)
        totals[name] = int(row[0]) if row else 0
    for row in await fetch_all(conn, _ORDER_SUMS):
        for i, name in enumerate(ORDER_SUMS, start=1):
            totals[f"orders.{row[0]}.{name}"] = int(row[i])
    stock = await fetch_all(conn, "SELECT state, COUNT(*) FROM stock_items GROUP BY state")
    by_state = {str(row[0]): int(row[1]) for row in stock}
    for state in sorted({*STOCK_STATES, *by_state}):
        totals[f"stock_items.{state}"] = by_state.get(state, 0)
    aggregates = {}
    for table in REBUILT:
        names = columns[table.name]
        rows = await fetch_all(conn, f"SELECT {', '.join(names)} FROM {table.name}")  # noqa: S608
        figures = [i for i, name in enumerate(names) if name not in table.key]
        kept = [tuple(row) for row in rows if any(row[i] != 0 for i in figures)]
        aggregates[table.name] = tuple(sorted(kept))
    return Figures(await row_counts(conn, COPIED), totals, aggregates)
