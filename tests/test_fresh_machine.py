"""What a fresh machine and a deploy rely on: declared dependencies, a lock that matches them,
a pinned image, and `make test` bringing its own browser."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME_PACKAGES = ("bot", "shop", "webhooks", "storage", "sandbox")
DEV_PACKAGES = ("tests", "bench", "testkit")
OWN = {*RUNTIME_PACKAGES, *DEV_PACKAGES}
# Published advisories and the release that fixed each: no floor may admit an older one.
ADVISORIES = {
    "aiohttp": [("GHSA-8495-4g3g-x7pr", "3.10.11"), ("GHSA-9548-qrrj-x5pj", "3.12.14")],
}


def requirements(group: str | None) -> dict[str, Requirement]:
    project = PYPROJECT["project"]
    listed = project["dependencies"] if group is None else project["optional-dependencies"][group]
    parsed = (Requirement(text) for text in listed)
    return {canonicalize_name(r.name): r for r in parsed}


def imported_modules(package: str) -> set[str]:
    """Top-level names of every absolute import in a package's source."""
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def undeclared(packages: tuple[str, ...], declared: set[str]) -> dict[str, set[str]]:
    distributions = packages_distributions()
    missing: dict[str, set[str]] = {}
    for package in packages:
        for module in imported_modules(package):
            if module in sys.stdlib_module_names or module in OWN or module == "__future__":
                continue
            owners = {canonicalize_name(d) for d in distributions.get(module, [module])}
            if not owners & declared:
                missing.setdefault(module, set()).add(package)
    return missing


def test_every_third_party_import_is_a_declared_dependency() -> None:
    runtime = set(requirements(None))
    assert undeclared(RUNTIME_PACKAGES, runtime) == {}
    assert undeclared(DEV_PACKAGES, runtime | set(requirements("dev"))) == {}


def test_no_floor_admits_a_release_with_a_published_advisory() -> None:
    declared = requirements(None)
    for name, advisories in ADVISORIES.items():
        for advisory, fixed in advisories:
            major, minor, micro = Version(fixed).release
            older = Version(f"{major}.{minor}.{micro - 1}")
            assert not declared[name].specifier.contains(older), (name, advisory)


def locked() -> dict[str, tuple[Version, list[str]]]:
    """requirements.lock as name → (pinned version, its hashes)."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8").replace("\\\n", " ")
    pins: dict[str, tuple[Version, list[str]]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})+)", line)
        assert match, f"not an exact pin with hashes: {line[:80]}"
        hashes = re.findall(r"sha256:([0-9a-f]{64})", match.group(3))
        pins[canonicalize_name(match.group(1))] = (Version(match.group(2)), hashes)
    return pins


def test_the_lock_pins_every_dependency_within_pyproject_with_hashes() -> None:
    pins = locked()
    for name, requirement in requirements(None).items():
        assert name in pins, f"{name} is not in requirements.lock: run make lock"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version), f"{name}=={version}: run make lock"
        assert hashes
    for extra in sorted(requirements(None)["python-telegram-bot"].extras):
        assert {"rate-limiter": "aiolimiter", "job-queue": "apscheduler"}[extra] in pins


def test_the_image_is_pinned_and_installs_only_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (image,) = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert "@sha256:" in image or re.fullmatch(r"python:3\.11\.\d+-slim-[a-z]+", image), image
    installs = [i.strip() for i in re.findall(r"pip install ([^\n&\\]+)", dockerfile)]
    assert installs == ["--require-hashes --only-binary=:all: -r requirements.lock"]


def test_the_license_is_an_spdx_string_that_the_build_backend_takes_without_warnings() -> None:
    assert PYPROJECT["project"]["license"] == "MIT"
    (backend,) = (Requirement(r) for r in PYPROJECT["build-system"]["requires"])
    assert backend.name == "setuptools" and not backend.specifier.contains("76.1")


# --- `make test` brings its own browser --------------------------------------------------------


def fake_tools(tmp_path: Path, uid: int, apt: bool) -> Path:
    """A PATH with a stand-in `id` (and `apt-get`, which records its arguments and "installs"
    chromium where the script looks for it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tools = {"id": f"echo {uid}"}
    if apt:
        chromium = tmp_path / "chromium"
        tools["apt-get"] = (
            f'echo "apt-get $*" >> {tmp_path / "apt.log"}\n'
            f'[ "$1" = install ] && printf "#!/bin/sh\\n" > {chromium} && /bin/chmod +x {chromium}'
            "\nexit 0"
        )
    for name, body in tools.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir


def ensure_chromium(tmp_path: Path, uid: int, apt: bool) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": str(fake_tools(tmp_path, uid, apt)),
        "CHROMIUM": str(tmp_path / "chromium"),
        "HOME": str(tmp_path),
    }
    return subprocess.run(
        ["/bin/bash", str(ROOT / "tools" / "ensure-chromium")],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_make_test_installs_chromium_as_root_with_apt(tmp_path: Path) -> None:
    done = ensure_chromium(tmp_path, uid=0, apt=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "apt.log").read_text().splitlines() == [
        "apt-get update",
        "apt-get install -y --no-install-recommends chromium",
    ]


@pytest.mark.parametrize(("uid", "apt"), [(1000, True), (0, False)])
def test_make_test_without_a_way_to_install_names_the_exact_command(
    tmp_path: Path, uid: int, apt: bool
) -> None:
    done = ensure_chromium(tmp_path, uid=uid, apt=apt)
    assert done.returncode == 1
    assert "apt-get install -y --no-install-recommends chromium" in done.stderr
    assert not (tmp_path / "apt.log").exists()


def test_make_test_and_ci_go_through_the_chromium_step() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (test_rule,) = re.findall(r"^test:(.*)$", makefile, re.MULTILINE)
    assert "browser" in test_rule.split() and "tools/ensure-chromium" in makefile
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.MULTILINE)
    assert os.access(ROOT / "tools" / "ensure-chromium", os.X_OK)
