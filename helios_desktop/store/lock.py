"""One writer per database: an exclusive lock on a sidecar file ``DB.lock``.

``helios analyze`` holds it for the whole run and the ``helios db`` commands that
change or check the database take it too, so a second analysis, a prune or a vacuum
on a database in use is refused with the holder's pid instead of fighting over it.
The lock is ``fcntl.flock`` on ``<database>.lock``: the kernel drops it when the
holder exits, even on SIGKILL, so a stale file never blocks anyone. The file holds
the holder's pid and what it is doing, for the message; it is never deleted (deleting
a flock'd file lets two processes lock two different inodes).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path


class DatabaseInUse(RuntimeError):
    """Another process holds the database; the message names it and its pid."""

    def __init__(self, path: Path, pid: int | None, holder: str):
        self.path, self.pid, self.holder = path, pid, holder
        who = f"another {holder}" if holder == "analysis" else f"`{holder}`"
        pid_text = f" (pid {pid})" if pid else ""
        super().__init__(f"database in use by {who}{pid_text}: {path}; wait for it to finish "
                         "or stop it, then try again")


def lock_path(database: str | os.PathLike) -> Path:
    database = Path(database)
    return database.with_name(database.name + ".lock")


def read_holder(database: str | os.PathLike) -> tuple[int | None, str]:
    """The pid and purpose written in the lock file (``(None, "")`` when none)."""
    try:
        text = lock_path(database).read_text("utf-8", errors="replace")
    except OSError:
        return None, ""
    first, _, rest = text.partition("\n")
    try:
        pid = int(first.strip())
    except ValueError:
        pid = None
    return pid, rest.strip() or "analysis"


class DatabaseLock:
    """Hold ``<database>.lock`` exclusively; ``holder`` says who ("analysis", "helios db
    prune", ...); ``grace`` is how long a taken lock is retried before the refusal.
    Use as a context manager, or ``acquire()`` / ``release()``."""

    def __init__(self, database: str | os.PathLike, holder: str = "analysis",
                 grace: float = 1.0):
        self.database = Path(database)
        self.grace = grace
        self.path = lock_path(self.database)
        self.holder = holder
        self._fd: int | None = None

    def acquire(self) -> DatabaseLock:
        if self._fd is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # O_CLOEXEC (Python's default): worker processes do not inherit the lock.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        # ``holder_of`` probes with a shared lock held for microseconds; a refusal is
        # only real when the lock stays taken past a short grace.
        deadline = time.monotonic() + self.grace
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    os.close(fd)
                    pid, holder = read_holder(self.database)
                    raise DatabaseInUse(self.database, pid, holder) from None
                time.sleep(0.01)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n{self.holder}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing drops the flock

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holder_of(database: str | os.PathLike) -> int | None:
    """The pid of the process holding the database, or None when it is free."""
    path = lock_path(database)
    if not path.exists():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return read_holder(database)[0] or -1
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
