"""A throwaway PostgreSQL server for the tests and the bench: Debian's `postgresql` binaries,
a cluster in a temporary directory, a free port on 127.0.0.1, gone when stopped.

`initdb` refuses to run as root, so as root the cluster belongs to the `postgres` user the
Debian package creates and every server command runs through `runuser`. `fsync=off` and
`synchronous_commit=off`: nothing here must survive a power cut, and the tests measure the
shop, not the disk. The bench asks for a `durable` server instead (fsync, synchronous commits
and full-page writes on, PostgreSQL's defaults), so that what it reports is what a production
server's commits cost. `tools/ensure-postgresql` installs the package when it is missing (`make
test` runs it first); a missing server is an error here, never a reason to skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from sandbox.standins import free_port

USER = "shop"
MAX_CONNECTIONS = 200  # several instances' pools, each up to storage.postgres.POOL_MAX
VERSIONS_DIR = Path("/usr/lib/postgresql")


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_bin() -> Path:
    """The newest installed server's bin directory (Debian keeps one per major version)."""
    candidates = sorted(
        (path for path in VERSIONS_DIR.glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if not candidates:
        raise PostgresMissing(
            "PostgreSQL's server is not installed: run `bash tools/ensure-postgresql` "
            "(or `apt-get install postgresql`)"
        )
    return candidates[-1]


class PostgresCluster:
    """One running throwaway server; `url(name)` of a database on it, `stop()` ends it."""

    def __init__(
        self, directory: Path, port: int, bin_dir: Path, *, crash_safe: bool, durable: bool = False
    ) -> None:
        self.directory = directory
        self.port = port
        self._bin = bin_dir
        self._crash_safe = crash_safe
        self.durable = durable

    @classmethod
    def start(cls, *, crash_safe: bool = False, durable: bool = False) -> PostgresCluster:
        """A new server. `crash_safe` keeps every commit through `halt` (synchronous_commit on:
        a test that stops the server mid-run must find what the shop was told was committed).
        `durable` also flushes every commit to the disk (fsync and full_page_writes on), as a
        production server does: for the bench's figures, never needed by a test."""
        bin_dir = server_bin()
        directory = Path(tempfile.mkdtemp(prefix="shop-pg-"))
        cluster = cls(directory, free_port(), bin_dir, crash_safe=crash_safe, durable=durable)
        try:
            cluster._init()
            cluster.resume()
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return cluster

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database on the server; its URL."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the cluster's superuser; its output."""
        result = subprocess.run(
            [str(self._bin / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
             "-d", self.url(database), "-c", sql],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return result.stdout

    def halt(self) -> None:
        """Stop the server at once, keeping its files (a crash, a failover): `resume` it."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def resume(self) -> None:
        """Start the server (again, after `halt`), on its port."""
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-w",
            "-o", self._server_options(), "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop at once (nothing to keep) and remove the cluster's files."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def _init(self) -> None:
        if _as_root():
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8",
            "--no-sync", "--locale=C.UTF-8",
        )  # fmt: skip

    def _server_options(self) -> str:
        commit = "on" if self._crash_safe or self.durable else "off"
        disk = "on" if self.durable else "off"
        return (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory}"
            f" -c fsync={disk} -c synchronous_commit={commit} -c full_page_writes={disk}"
            f" -c max_connections={MAX_CONNECTIONS}"
        )

    def _run(self, program: str, *args: str) -> None:
        command = [str(self._bin / program), *args]
        if _as_root():
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(
                result.returncode, command, result.stdout, result.stderr + self._log_tail()
            )

    def _log_tail(self) -> str:
        log = self.directory / "log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def _as_root() -> bool:
    return os.geteuid() == 0
