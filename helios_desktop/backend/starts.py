"""When to give up starting workers: the start-failure policy, without processes.

A worker that dies before it is ready (killed while loading the model, say) is
replaced like any other. The run gives up only when the model plainly cannot load
(a worker says so before any worker of the run was ever ready: retrying would fail
the same way), or after ``max_failed_starts`` starts in a row failed with no worker
becoming ready in between. Either way the reason goes back to the user.
"""

from __future__ import annotations

MAX_FAILED_STARTS = 5


class StartPolicy:
    def __init__(self, max_failed_starts: int = MAX_FAILED_STARTS):
        self.max_failed_starts = max_failed_starts
        self.ever_ready = False
        self.failed_in_a_row = 0

    def ready(self) -> None:
        """A worker (any one) became ready."""
        self.ever_ready = True
        self.failed_in_a_row = 0

    def start_failed(self, why: str, *, reported: bool) -> str | None:
        """A worker died before it was ready: why the run must give up, or None to retry.

        ``reported`` is true when the worker said why it failed (the model could not
        be loaded), false when it died without a word (a signal, the OOM killer)."""
        self.failed_in_a_row += 1
        if reported and not self.ever_ready:
            return why
        if self.failed_in_a_row >= self.max_failed_starts:
            return (f"{self.failed_in_a_row} worker starts in a row failed before the model "
                    f"was loaded; the last: {why}")
        return None
