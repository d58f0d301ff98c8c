"""`python -m bench [--quick] [--only webhook,flash,growth,window,durable,instances]
[--no-profile]`.

Runs the scenarios in order, prints the table and, for a full run of all of them, writes
bench/RESULTS.md. The scratch files (databases, the shop's logs, py-spy's raw profiles) go to a
temporary directory that is kept, and named at the end, for a closer look.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import durable, flash, growth, instances, webhook, window
from bench.harness import Machine
from bench.report import RESULTS, Report

SCENARIOS = ("webhook", "flash", "growth", "window", "durable", "instances")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller numbers, a smoke run")
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy recordings")
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> Report:
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    workdir = Path(tempfile.mkdtemp(prefix="shop-bench-"))
    report = Report(Machine.describe())
    profile = not args.no_profile
    loads = [f"start {os.getloadavg()[0]:.2f}"]
    began = time.monotonic()
    for name in chosen:
        print(f"bench: {name} …", flush=True)
        if name == "webhook":
            await webhook.run(report, workdir, quick=args.quick, profile=profile)
        elif name == "flash":
            await flash.run(report, workdir, quick=args.quick, profile=profile)
        elif name == "growth":
            await growth.run(report, workdir, quick=args.quick)
        elif name == "window":
            await window.run(report, quick=args.quick)
        elif name == "instances":
            await instances.run(report, workdir, quick=args.quick)
        else:
            await durable.run(report, workdir, quick=args.quick)
        loads.append(f"after {name} {os.getloadavg()[0]:.2f}")
    report.seconds = time.monotonic() - began
    report.section(
        "Run",
        [
            f"Scratch directory (databases, the shop's logs, raw py-spy profiles): `{workdir}`.",
            f"1-minute load average: {', '.join(loads)} — anything well above the bench's "
            f"own ~2 busy processes means other work shared the {report.machine.cores} cores.",
        ],
    )
    return report


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING)
    report = asyncio.run(_main(args))
    print()
    print("\n".join(report.machine_lines()))
    print()
    print(report.console())
    full = not args.quick and set(args.only.split(",")) == set(SCENARIOS)
    if full:
        report.write()
        print(f"\nwritten to {RESULTS}")
    else:
        scratch = Path(tempfile.gettempdir()) / "shop-bench-RESULTS.md"
        report.write(scratch)
        print(f"\n(partial or quick run: written to {scratch}, not to {RESULTS})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
