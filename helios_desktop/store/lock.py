"""One writer per database: an exclusive lock on a sidecar file ``DB.lock``.

``helios analyze`` holds it for the whole run and the ``helios db`` commands that
change or check the database take it too, so a second analysis, a prune or a vacuum
on a database in use is refused with the holder's pid instead of fighting over it.
The lock is ``fcntl.flock`` on ``<database>.lock``: the kernel drops it when the
holder exits, even on SIGKILL, so a stale file never blocks anyone. The file holds
the holder's pid, what it is doing and, for an analysis, its folder, for the message
("in use by the analysis of /srv/share (pid N)"); it is never deleted (deleting a
flock'd file lets two processes lock two different inodes).

Two analyses of one database do not run side by side: the ledger has one writer by
design (its leases, resume and the reuse of unchanged results read and write the runs
as one process's state), and SQLite would only serialise two writers' batches behind
busy timeouts. So the command line refuses a second one naming the folder in work,
and the window queues it until the lock is free (``gui/run_control.py``).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path


class DatabaseInUse(RuntimeError):
    """Another process holds the database; the message names it and its pid."""

    def __init__(self, path: Path, pid: int | None, holder: str, folder: str = ""):
        self.path, self.pid, self.holder, self.folder = path, pid, holder, folder
        if holder == "analysis" and folder:
            who = f"the analysis of {folder}"
        else:
            who = f"another {holder}" if holder == "analysis" else f"`{holder}`"
        pid_text = f" (pid {pid})" if pid else ""
        super().__init__(f"database {path} is in use by {who}{pid_text}; one analysis writes "
                         "to a database at a time: wait for it to finish or stop it, then try "
                         "again (or give this one another --db)")


def lock_path(database: str | os.PathLike) -> Path:
    database = Path(database)
    return database.with_name(database.name + ".lock")


def read_holder(database: str | os.PathLike) -> tuple[int | None, str]:
    """The pid and purpose written in the lock file (``(None, "")`` when none)."""
    pid, holder, _folder = read_lock(database)
    return pid, holder


def read_lock(database: str | os.PathLike) -> tuple[int | None, str, str]:
    """The pid, purpose and folder written in the lock file (the folder "" when none)."""
    try:
        text = lock_path(database).read_text("utf-8", errors="replace")
    except OSError:
        return None, "", ""
    first, holder, folder = (text.split("\n") + ["", ""])[:3]
    try:
        pid = int(first.strip())
    except ValueError:
        pid = None
    return pid, holder.strip() or "analysis", folder.strip()


class DatabaseLock:
    """Hold ``<database>.lock`` exclusively; ``holder`` says who ("analysis", "helios db
    prune", ...); ``grace`` is how long a taken lock is retried before the refusal.
    Use as a context manager, or ``acquire()`` / ``release()``."""

    def __init__(self, database: str | os.PathLike, holder: str = "analysis",
                 grace: float = 1.0, folder: str | os.PathLike = ""):
        self.database = Path(database)
        self.folder = os.fsdecode(folder) if folder else ""  # what an analysis works on
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
                    raise DatabaseInUse(self.database, *read_lock(self.database)) from None
                time.sleep(0.01)
        os.ftruncate(fd, 0)
        # The folder on a line of its own: another window waiting its turn names it.
        os.write(fd, f"{os.getpid()}\n{self.holder}\n{self.folder}\n".encode())
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
