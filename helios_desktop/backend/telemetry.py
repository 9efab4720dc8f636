"""Telemetry: progress counts, the once-a-second ``telemetry`` event and the health answer."""

from __future__ import annotations

import asyncio
import time

from . import events

TELEMETRY_EVERY = 1.0  # seconds between ``telemetry`` events while a run goes


class Telemetry:
    """Mixed into ``HeliosOrchestrator``: what the window and the exporter see of a run.
    The Prometheus exporter (metrics.py) stays for external tools; the window reads the
    ``telemetry`` event (events.py), one channel."""

    def health(self) -> dict:
        alive = sum(1 for w in self.workers.values() if w.process.is_alive())
        status = "finished" if self._finished else "stopping" if self.stop_requested else "running"
        return {"status": status, "run_id": self._run_id,
                "workers_alive": alive, "processed": self.processed,
                "uptime_seconds": round(time.monotonic() - self._started, 1)}

    async def _ticker(self, run_id: int) -> None:
        # Counting a run's rows costs ~65 ms at 1,000,000 files: space the counts so
        # they never take more than about 5% of the supervisor's time.
        while True:
            started = time.perf_counter()
            self._progress(run_id)
            await asyncio.sleep(max(0.25, 20 * (time.perf_counter() - started)))

    def _progress(self, run_id: int, force: bool = False) -> None:
        counts = self.ledger.counts(run_id)
        pending = counts["pending"] + counts["leased"]
        self.metrics.queue_depth.set(pending)
        self._queue_depth = pending
        elapsed = max(1e-9, time.monotonic() - self._started)
        info = dict(done=counts["done"], failed=counts["failed"], skipped=counts["skipped"],
                    pending=pending, files_per_second=round(self.processed / elapsed, 3),
                    tokens_per_second=round(self.generated_tokens / elapsed, 2),
                    scanning=not self._scan_done and not self.stop_requested)
        if force:
            info["force"] = True
        self._emit("progress", **info)
        info.pop("force", None)
        if self.on_progress:
            self.on_progress(info)

    async def _telemetry(self) -> None:
        while True:
            self._emit_telemetry()
            await asyncio.sleep(TELEMETRY_EVERY)

    def _emit_telemetry(self) -> None:
        gpus = {str(index): {"utilization_ratio": float(s["utilization"]),
                             "memory_used_bytes": float(s["memory_used"]),
                             "memory_total_bytes": float(s["memory_total"])}
                for index, s in sorted(self._gpus.last.items())} if self._gpus else {}
        self._emit(events.Telemetry(processed=float(self.processed),
                                    generated_tokens=float(self.generated_tokens),
                                    prompt_tokens=float(self.prompt_tokens),
                                    queue_depth=float(self._queue_depth), gpus=gpus))
