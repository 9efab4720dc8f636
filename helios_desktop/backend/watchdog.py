"""The watchdog: a worker silent too long, or stuck in one batch, is killed (the pool restarts it)."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("helios.supervisor")


class Watchdog:
    """Mixed into ``HeliosOrchestrator``: reads each worker's CPU and I/O as a sign of
    life and asks the policy which workers are stuck."""

    async def _watchdog(self) -> None:
        # onnxruntime-genai holds the GIL in its native calls (loading a model, a long
        # prefill: 107 s for 4,000 tokens measured, see PERFORMANCE.md), so a busy worker's
        # heartbeat thread can be silent for long. A worker whose process used CPU time or
        # read bytes since the last look is busy in one call, not dead: that counts as a
        # sign of life. A frozen or deadlocked one uses neither and is killed once silent
        # for worker_heartbeat_timeout; worker_batch_timeout still bounds one batch.
        seen: dict[int, tuple[int, float]] = {}
        while True:
            await asyncio.sleep(0.5)
            watched = [w.wid for w in self.workers.values()
                       if w.process.is_alive() and not w.expected_exit]
            for wid in watched:
                pid = self.workers[wid].process.pid
                work = _work_done(pid)
                before = seen.get(wid)
                seen[wid] = (pid, work)
                if before is not None and before[0] == pid and work > before[1]:
                    self.policy.heard_from(wid)
            for wid, why in self.policy.stuck(watched):
                log.warning("worker %d is stuck (%s): killing it", wid, why, extra={"worker": wid})
                self.workers[wid].process.kill()


def _work_done(pid: int) -> float:
    """CPU seconds plus megabytes read by process ``pid`` so far (0 when it is gone)."""
    import psutil

    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            cpu = proc.cpu_times()
            try:
                read = proc.io_counters().read_chars / 1e6
            except (AttributeError, psutil.AccessDenied):
                read = 0.0
        return cpu.user + cpu.system + read
    except psutil.Error:
        return 0.0
