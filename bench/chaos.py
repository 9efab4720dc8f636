"""Chaos run: one analysis of a generated corpus under random kills and stops, then checks.

While `helios analyze` runs (events read from its stdout), a seeded scheduler does, in
random order and at random moments:

- SIGKILL of a worker: a busy or ready one, or one that is starting or loading the model
  (the bench waits for a replacement to appear and kills it while it loads);
- SIGKILL of the whole backend, followed at once by a re-run on the same database;
- SIGSTOP of a worker, continued after a short pause, or after a pause longer than the
  heartbeat timeout (the supervisor must kill and replace it).

When every planned action is done, the last backend runs to its end. If the run
finishes first, a fifth of the files are rewritten and the folder is analyzed again
(changed files re-analyzed, unchanged ones kept), so the chaos goes on. Then the checks:
the last run completed with exit 0; the ledger holds exactly one row for every file of
the corpus (none lost, none duplicated, none pending or leased); every done row has its
result; ``PRAGMA integrity_check`` is ok; no process started by the bench is left.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

LIVE_STATES = ("starting", "loading_model", "ready", "busy")
LOADING = ("starting", "loading_model")


class Backend:
    """One `helios analyze` process with its events read on a thread."""

    def __init__(self, cmd: list[str], events: queue.Queue):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, text=True)
        self.events = events
        self.stderr: list[str] = []
        self.finished: dict | None = None
        self.read_all = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                self.events.put((self, json.loads(line)))
            except ValueError:
                pass
        self.read_all.set()

    def _read_err(self) -> None:
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())


class Chaos:
    def __init__(self, folder: Path, db: Path, model: Path, *, worker_kills: int,
                 backend_kills: int, stops: int, workers: int, seed: int,
                 heartbeat_timeout: float, extra: list[str]):
        self.folder, self.db, self.model = folder, db, model
        self.rng = random.Random(seed)
        self.plan = (["worker"] * worker_kills + ["backend"] * backend_kills + ["stop"] * stops)
        self.rng.shuffle(self.plan)
        self.workers = workers
        self.heartbeat_timeout = heartbeat_timeout
        self.extra = extra
        self.events: queue.Queue = queue.Queue()
        self.counts: Counter = Counter()
        self.pids: set[int] = set()          # every process the bench caused to exist
        self.state: dict[int, str] = {}      # worker pid -> last state (current backend)
        self.killed: set[int] = set()
        self.stopped: dict[int, float] = {}  # pid -> when to continue it
        self.kill_next_loading = 0
        self.backend: Backend | None = None

    # -- processes ------------------------------------------------------------------------

    def _start_backend(self) -> None:
        cmd = [sys.executable, "-m", "helios_desktop", "analyze", str(self.folder),
               "--db", str(self.db), "--model", str(self.model), "--events", "jsonl",
               "--workers", str(self.workers),
               "--set", f"worker_heartbeat_timeout={self.heartbeat_timeout}", *self.extra]
        self.backend = Backend(cmd, self.events)
        self.pids.add(self.backend.proc.pid)
        self.state = {}
        self.counts["backend starts"] += 1

    def _kill(self, pid: int) -> bool:
        try:
            os.kill(pid, signal.SIGKILL)
            return True
        except ProcessLookupError:
            return False

    def _live_workers(self, states=LIVE_STATES) -> list[int]:
        return [pid for pid, state in self.state.items()
                if state in states and pid not in self.killed and pid not in self.stopped]

    def _kill_worker(self) -> bool:
        if self.rng.random() < 0.35:
            # the next worker seen starting or loading is killed at once
            self.kill_next_loading += 1
            return True
        candidates = self._live_workers(("ready", "busy"))
        if not candidates:
            return False
        pid = self.rng.choice(candidates)
        if self._kill(pid):
            self.killed.add(pid)
            self.counts[f"worker kills ({self.state[pid]})"] += 1
        return True

    def _stop_worker(self) -> bool:
        candidates = self._live_workers()
        if not candidates:
            return False
        pid = self.rng.choice(candidates)
        long = self.rng.random() < 0.4
        pause = (self.heartbeat_timeout + self.rng.uniform(1.0, 2.5) if long
                 else self.rng.uniform(0.2, self.heartbeat_timeout / 2))
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:
            return False
        self.stopped[pid] = time.monotonic() + pause
        self.counts["worker stops (longer than the heartbeat timeout)" if long
                    else "worker stops (short)"] += 1
        return True

    def _continue_due(self, now: float, everyone: bool = False) -> None:
        for pid, when in list(self.stopped.items()):
            if everyone or now >= when:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                del self.stopped[pid]

    def _kill_backend(self) -> None:
        proc = self.backend.proc
        self._kill(proc.pid)
        proc.wait()
        self.counts["backend kills"] += 1
        # its workers notice the closed pipe and leave; stopped ones must be continued to
        self._continue_due(0, everyone=True)
        self._start_backend()

    # -- the run --------------------------------------------------------------------------

    def _on_event(self, source: Backend, event: dict) -> None:
        if source is not self.backend:
            return
        if event["event"] == "worker":
            pid = event["pid"]
            self.pids.add(pid)
            self.state[pid] = event["state"]
            if event["state"] == "restarting":
                self.counts["worker restarts (supervisor)"] += 1
            if (event["state"] in LOADING and self.kill_next_loading and pid not in self.killed):
                if self._kill(pid):
                    self.killed.add(pid)
                    self.kill_next_loading -= 1
                    self.counts[f"worker kills ({event['state']})"] += 1
        elif event["event"] == "run_finished":
            source.finished = event
        elif event["event"] == "error":
            self.counts["error events"] += 1

    def _rewrite_some(self) -> None:
        files = sorted(p for p in self.folder.rglob("*") if p.is_file())
        for path in self.rng.sample(files, max(1, len(files) // 5)):
            data = path.read_bytes()
            if data and b"\0" not in data:
                path.write_bytes(data + b"\nrevised\n")
        self.counts["re-runs over changed files"] += 1

    def run(self) -> int:
        """Run to the end; returns the last backend's exit code."""
        self._start_backend()
        next_action = time.monotonic() + self.rng.uniform(0.5, 1.5)
        while True:
            try:
                source, event = self.events.get(timeout=0.05)
                self._on_event(source, event)
                continue
            except queue.Empty:
                pass
            now = time.monotonic()
            self._continue_due(now)
            proc = self.backend.proc
            if proc.poll() is not None:
                self._continue_due(now, everyone=True)
                self._drain()
                code = proc.returncode
                done = self.backend.finished is not None and self.backend.finished["status"] == "completed"
                if code != 0:
                    self.counts[f"backend exits {code} (not killed by the bench)"] += 1
                    if self.counts[f"backend exits {code} (not killed by the bench)"] > 3:
                        tail = "\n".join(self.backend.stderr[-5:])
                        raise SystemExit(f"chaos: the backend keeps failing (exit {code}):\n{tail}")
                    self._start_backend()
                    continue
                if not self.plan and not self.kill_next_loading and done:
                    return code
                if done:
                    self._rewrite_some()
                self._start_backend()
                continue
            if self.plan and now >= next_action:
                action = self.plan[0]
                ok = {"worker": self._kill_worker, "stop": self._stop_worker,
                      "backend": lambda: (self._kill_backend(), True)[1]}[action]()
                if ok:
                    self.plan.pop(0)
                next_action = now + self.rng.uniform(0.3, 1.2)

    def _drain(self) -> None:
        """Handle the last events of the backend that just exited."""
        self.backend.read_all.wait(timeout=10)
        while True:
            try:
                source, event = self.events.get_nowait()
            except queue.Empty:
                return
            self._on_event(source, event)

    # -- checks ---------------------------------------------------------------------------

    def check(self) -> tuple[list[str], dict]:
        problems = []
        files = {os.fsencode(p) for p in self.folder.rglob("*") if p.is_file()}
        conn = sqlite3.connect(self.db)
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            problems.append(f"integrity_check: {integrity}")
        run_id, status = conn.execute("SELECT id, status FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        if status != "completed":
            problems.append(f"the last run {run_id} is {status}")
        rows = conn.execute("SELECT path, status, reason FROM files WHERE run_id = ?",
                            (run_id,)).fetchall()
        paths = [bytes(p) for p, _, _ in rows]
        lost = files - set(paths)
        extra = set(paths) - files
        duplicated = len(paths) - len(set(paths))
        for name, n in (("lost", len(lost)), ("unknown", len(extra)), ("duplicated", duplicated)):
            if n:
                problems.append(f"{n} files {name}")
        statuses = Counter(s for _, s, _ in rows)
        if statuses["pending"] or statuses["leased"]:
            problems.append(f"{statuses['pending']} pending, {statuses['leased']} leased")
        reasons = Counter(r for _, _, r in rows if r)
        missing = conn.execute(
            "SELECT count(*) FROM files f LEFT JOIN analysis_results a ON a.file_id = f.id "
            "WHERE f.run_id = ? AND f.status = 'done' AND a.result IS NULL", (run_id,)).fetchone()[0]
        if missing:
            problems.append(f"{missing} done files without a result")
        runs = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        conn.close()
        left = self._processes_left()
        if left:
            problems.append(f"{len(left)} processes left: {left}")
        data = {"files": len(files), "rows": len(rows), "runs": runs,
                "statuses": dict(statuses), "reasons": dict(reasons), "lost": len(lost),
                "duplicated": duplicated, "integrity": integrity, "processes_left": len(left)}
        return problems, data

    def _processes_left(self, wait: float = 60.0) -> list[int]:
        """Pids the bench caused that are still alive (orphaned workers get ``wait``
        seconds to notice their supervisor is gone)."""
        deadline = time.monotonic() + wait
        while True:
            left = []
            for pid in self.pids:
                try:
                    p = psutil.Process(pid)
                    ours = "helios_desktop" in " ".join(p.cmdline()) or "multiprocessing" in " ".join(p.cmdline())
                    if ours and p.status() != psutil.STATUS_ZOMBIE:
                        left.append(pid)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.2)
