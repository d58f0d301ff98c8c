"""Production runs without the sandbox: the image leaves it out, and the shop never imports it.
It does carry the shop's languages: the catalogs, compiled in the image.

No Docker engine runs here, so the image is checked on the Dockerfile's text, and its layout is
rebuilt in a scratch folder (only what is copied, with the Dockerfile's own compile step run
there) to start `python -m bot` there.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from shop.i18n import shipped_languages

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_PACKAGES = ("bot", "shop", "webhooks", "storage")
CATALOGS = "locales"  # the translations; compiled in the image (README: Languages)
DEVELOPMENT_ONLY = frozenset({"sandbox", "tests", "bench", "tools"})
# The one place the shop may reach the sandbox: bot/__main__.py, inside a function, once
# bot.launch has chosen the sandbox.
SANDBOX_ENTRY = Path("bot/__main__.py")


def dockerfile_lines() -> list[list[str]]:
    """The Dockerfile's instructions, each as its words (continuations joined)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    return [line.split() for line in text.splitlines() if line.strip()]


def dockerfile_copies() -> list[str]:
    """The sources of every COPY/ADD line in the Dockerfile."""
    sources: list[str] = []
    for words in dockerfile_lines():
        if words[0].upper() in {"COPY", "ADD"}:
            sources += [w for w in words[1:-1] if not w.startswith("--")]
    return sources


def catalog_compile_command() -> list[str]:
    """The Dockerfile's RUN that compiles the catalogs, as its arguments; it comes after the
    catalogs are copied in."""
    lines = dockerfile_lines()
    copied = next(i for i, w in enumerate(lines) if w[0].upper() == "COPY" and w[1] == CATALOGS)
    [(index, command)] = [
        (i, shlex.split(" ".join(w[1:])))
        for i, w in enumerate(lines)
        if w[0].upper() == "RUN" and "pybabel" in w[1:2]
    ]
    assert index > copied, "the catalogs are compiled after they are copied in"
    return command


def imported_roots(tree: ast.AST) -> list[tuple[str, int, bool]]:
    """(top-level package, line, inside a function) for every import in a module's tree."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                found.extend((a.name.split(".")[0], child.lineno, in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module.split(".")[0], child.lineno, in_function))
            visit(child, nested)

    visit(tree, False)
    return found


def development_imports(path: Path) -> list[str]:
    """Imports of a development-only package in one production module, except the lazy
    sandbox entry point."""
    relative = path.relative_to(ROOT)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))
    allowed_lazily = {"sandbox"} if relative == SANDBOX_ENTRY else set()
    return [
        f"{relative}:{line} imports {root}" + ("" if in_function else " at module level")
        for root, line, in_function in imported_roots(tree)
        if root in DEVELOPMENT_ONLY and not (in_function and root in allowed_lazily)
    ]


def test_the_production_packages_never_import_the_sandbox_tests_or_bench() -> None:
    modules = [p for package in PRODUCTION_PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    assert len(modules) > 20
    assert [problem for path in modules for problem in development_imports(path)] == []


def test_the_scan_catches_a_module_level_import_and_allows_only_the_lazy_entry_point() -> None:
    eager = ast.parse("import sandbox.run\nfrom sandbox import fake_stripe\n")
    lazy = ast.parse("def main():\n    from sandbox.run import main\n")
    assert imported_roots(eager) == [("sandbox", 1, False), ("sandbox", 2, False)]
    assert imported_roots(lazy) == [("sandbox", 2, True)]
    entry = imported_roots(ast.parse((ROOT / SANDBOX_ENTRY).read_text(encoding="utf-8")))
    assert [(root, lazily) for root, _, lazily in entry if root == "sandbox"] == [("sandbox", True)]


def test_the_image_ships_only_the_production_packages_and_never_starts_a_sandbox() -> None:
    sources = dockerfile_copies()
    assert sources == ["requirements.lock", *PRODUCTION_PACKAGES, CATALOGS]
    assert not {Path(s).parts[0] for s in sources} & DEVELOPMENT_ONLY
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ENV\b[^\n]*(?:\\\n[^\n]*)*\bSANDBOX=0\b", dockerfile, re.MULTILINE)


def test_the_image_layout_without_settings_lists_them_instead_of_crashing(tmp_path: Path) -> None:
    """`python -m bot` from a folder holding only what the image copies, with the sandbox
    unimportable: with SANDBOX=0 (the image's ENV) and no settings, the usual list of problems
    and status 2, no traceback."""
    for package in PRODUCTION_PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copytree(ROOT / CATALOGS, tmp_path / CATALOGS, ignore=shutil.ignore_patterns("*.mo"))
    keep = {"PATH", "HOME", "LANG", "SYSTEMROOT"}
    env = {k: v for k, v in os.environ.items() if k in keep} | {"SANDBOX": "0"}
    # The development install still has the sandbox on sys.path: make importing it fail.
    start = (
        "import runpy, sys; sys.modules['sandbox'] = None; "
        "runpy.run_module('bot', run_name='__main__')"
    )
    done = subprocess.run(
        [sys.executable, "-c", start],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "TELEGRAM_BOT_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr and "sandbox" not in done.stderr.lower()


def test_the_image_compiles_every_shipped_catalog_where_the_shop_looks_for_it(
    tmp_path: Path,
) -> None:
    """The Dockerfile's own compile step, run on the catalogs as committed (no .mo: those are
    built, never committed) in the image's layout, leaves a compiled catalog for every shipped
    language, and the shop started from that layout finds them all."""
    for package in (*PRODUCTION_PACKAGES, CATALOGS):
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.mo"),
        )
    command = catalog_compile_command()
    assert command[:2] == ["pybabel", "compile"]
    pybabel = Path(sys.executable).parent / "pybabel"  # what the lock installs, on the PATH
    done = subprocess.run(
        [str(pybabel), *command[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    sources = sorted(tmp_path.glob(f"{CATALOGS}/*/LC_MESSAGES/messages.po"))
    assert len(sources) >= 6
    assert all(source.with_suffix(".mo").is_file() for source in sources)

    where = "from shop.i18n import *; print(SHIPPED_CATALOGS); print(*shipped_languages())"
    found = subprocess.run(
        [sys.executable, "-c", where],
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    folder, codes = found.stdout.splitlines()
    assert Path(folder) == (tmp_path / CATALOGS).resolve()  # the image's, not this checkout's
    assert codes.split() == shipped_languages()
    compiled = {mo.parent.parent.name for mo in tmp_path.glob(f"{CATALOGS}/*/LC_MESSAGES/*.mo")}
    assert ["en", *sorted(compiled)] == shipped_languages()
