"""The results table (printed and written to bench/RESULTS.md) and its supporting sections.

Every figure is one `Row` with its goal beside it, so a reader sees at a glance what is met;
figures without a goal are context (what the stand-ins saw, counts) and say so with "—".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import Machine

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
FINDINGS = Path(__file__).resolve().parent / "FINDINGS.md"


@dataclass(frozen=True)
class Row:
    scenario: str
    measure: str
    value: str
    goal: str = "—"
    met: bool | None = None

    @property
    def verdict(self) -> str:
        if self.met is None:
            return ""
        return "✅ met" if self.met else "❌ short"


@dataclass
class Report:
    machine: Machine
    rows: list[Row] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)
    seconds: float = 0.0

    def add(
        self, scenario: str, measure: str, value: str, goal: str = "—", met: bool | None = None
    ) -> None:
        self.rows.append(Row(scenario, measure, value, goal, met))

    def section(self, title: str, lines: list[str]) -> None:
        self.sections.append((title, lines))

    def ordered(self) -> list[Row]:
        """Rows by scenario number (the flash-sale run also yields the footprint's rows)."""
        return sorted(self.rows, key=lambda row: row.scenario.split()[0])

    def table(self) -> list[str]:
        lines = ["| # | measure | value | goal | |", "|---|---|---:|---|---|"]
        for row in self.ordered():
            lines.append(
                f"| {row.scenario} | {row.measure} | {row.value} | {row.goal} | {row.verdict} |"
            )
        return lines

    def machine_lines(self) -> list[str]:
        m = self.machine
        return [
            f"- Date: {m.date}",
            f"- CPU: {m.cpu}, {m.cores} cores",
            f"- Python: {m.python} on {m.system}",
            f"- Bench wall time: {self.seconds:.0f} s",
        ]

    def markdown(self) -> str:
        parts = [
            "# Benchmark results",
            "",
            "Written by `make bench` (`python -m bench`); do not edit by hand — the hand-written",
            "analysis is in [FINDINGS.md](FINDINGS.md) and is appended below.",
            "",
            *self.machine_lines(),
            "",
            *self.table(),
            "",
        ]
        for title, lines in self.sections:
            parts += [f"## {title}", "", *lines, ""]
        if FINDINGS.exists():
            parts += ["---", "", FINDINGS.read_text().rstrip(), ""]
        return "\n".join(parts)

    def write(self, path: Path = RESULTS) -> None:
        path.write_text(self.markdown())

    def console(self) -> str:
        """The table as aligned plain text for the terminal."""
        header = ("#", "measure", "value", "goal", "")
        body = [(r.scenario, r.measure, r.value, r.goal, r.verdict) for r in self.ordered()]
        widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(len(header))]
        out = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
        out.append("-+-".join("-" * w for w in widths))
        for row in body:
            out.append(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        return "\n".join(out)
