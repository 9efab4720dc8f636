"""Bounds on one extraction in a worker: a deadline and an address-space limit.

Parsers are untrusted code on untrusted input (Apache Tika runs them in forked
processes for the same reason). Here each worker process is that fork: while a file is
extracted, ``RLIMIT_AS`` is lowered to the address space already in use plus
``memory_limit`` (so the model loaded beside it is not counted), and an interval timer
raises ``LimitHit`` when the deadline passes. A parser stuck inside native code past the
deadline is caught by the supervisor's batch watchdog instead, which replaces the
worker; a crash costs the worker and makes the file a suspect (three strikes).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading

from .base import LimitHit

try:
    import resource
except ImportError:  # not on Windows: the deadline still applies
    resource = None


def _address_space() -> int | None:
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def memory_bound(extra: int):
    """Allow at most ``extra`` more bytes of address space inside the block."""
    if not extra or resource is None:
        yield
        return
    used = _address_space()
    if used is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + extra
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY and soft <= limit:
        yield  # already tighter
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    except MemoryError:
        raise LimitHit(f"memory: the parser needed more than {extra >> 20} MiB "
                       "(extract_memory_limit)") from None
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def deadline(seconds: float):
    """Raise ``LimitHit`` in the block once ``seconds`` have passed (main thread only:
    elsewhere the caller's own watchdog is the bound)."""
    usable = (seconds and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return
    def expired(signum, frame):
        raise LimitHit(f"deadline: still reading after {seconds:g} s (extract_timeout)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def guarded(deadline_s: float, memory_limit: int):
    with deadline(deadline_s), memory_bound(memory_limit):
        yield
