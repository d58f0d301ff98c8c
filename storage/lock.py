"""One process per SQLite database: an exclusive lock on `<database>.lock`, held for life.

A second bot on the same file would start, report healthy and then fight the first for
Telegram's updates (`Conflict`) and for the write lock. The lock is a `flock` on a separate
file, not on the database, so readers such as `python -m storage.backup` are never blocked by
it; the kernel drops it when the process dies, so even a SIGKILL leaves no stale lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class DatabaseInUse(Exception):
    """Another live process owns the database; the message says which, for the operator."""


class ProcessLock:
    """The held lock; `release` (or the process's end) lets the next owner in."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def acquire(cls, database: Path) -> ProcessLock:
        """Take the lock beside `database` without waiting, or raise DatabaseInUse."""
        path = database.with_name(database.name + ".lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _recorded_pid(fd)
            os.close(fd)
            raise DatabaseInUse(
                f"Another process{holder} is already running the shop on {database} "
                f"(it holds {path}); stop it first — one process owns a SQLite database."
            ) from None
        except BaseException:
            os.close(fd)
            raise
        # Written only to name the owner in the refusal above; the flock is the lock.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        return cls(fd, path)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _recorded_pid(fd: int) -> str:
    """' (pid N)' from the holder's note in the lock file, or '' when there is none."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {text})" if text.isdigit() else ""
