"""No gaps between batches: og.Engine takes the next batch's files as slots free, and each
batch still goes back whole, in order (backend/feed.py, ContinuousScheduler.stream)."""

import os
import sqlite3

import numpy as np
import onnxruntime_genai as og

from helios_desktop.backend.feed import BatchFeed
from helios_desktop.backend.messages import Batch
from helios_desktop.backend.worker import WorkerCore
from helios_desktop.engines.continuous import ContinuousScheduler
from helios_desktop.records import AnalysisResult, FileTask, Status

from conftest import SAMPLES, analyze_args, helios


class _Event:
    def __init__(self, request, flags, token=None):
        self.request, self.flags, self.token = request, flags, token
        self.error_code, self.finish_reason = og.EngineErrorCode.NONE, og.FinishReason.EOS


class _Request:
    def __init__(self, key, steps):
        self.key, self.steps = key, steps

    def close(self):
        pass


class _TimedEngine:
    """Each request takes as many steps as it was given; every step records what ran."""

    def __init__(self):
        self.live, self.steps = [], []

    def create_event_buffer(self, n):
        return None

    def run(self, buffer):
        self.steps.append({r.key for r in self.live})
        events = []
        for request in list(self.live):
            request.steps -= 1
            events.append(_Event(request, int(og.EngineEventFlags.TOKEN), token=1))
            if request.steps <= 0:
                self.live.remove(request)
                events.append(_Event(request, int(og.EngineEventFlags.TURN_FINISHED)))
        return events


class _Scheduler(ContinuousScheduler):
    def __init__(self, owner, steps):
        self.owner, self.og, self.cap = owner, og, 0
        self.engine = _TimedEngine()
        self.steps = steps

    def rebuild(self):
        raise AssertionError("no rebuild expected")

    def _submit(self, item):
        item.request, item.tokens = _Request(item.index, self.steps[item.index]), []
        self.engine.live.append(item.request)


class _Owner:
    max_output_tokens, max_batch_size, provider, batch_size = 16, 4, "cuda", 4

    def decode(self, tokens):
        return "{}"


def test_the_next_batch_starts_while_the_last_file_of_this_one_runs():
    # batch A: one file of 10 steps and three of 1; batch B: four files of 1 step
    steps = {"a0": 10, "a1": 1, "a2": 1, "a3": 1, "b0": 1, "b1": 1, "b2": 1, "b3": 1}
    batches = [["a0", "a1", "a2", "a3"], ["b0", "b1", "b2", "b3"]]
    pulls, out = [], {}

    def pull(room, idle):
        pulls.append((room, idle))
        if not batches:
            return None
        queue = batches[0]
        taken, batches[0] = queue[:room], queue[room:]
        if not batches[0]:
            batches.pop(0)
        return [(key, np.array([1], dtype=np.int32), "text") for key in taken]

    sched = _Scheduler(_Owner(), steps)
    sched.stream(pull, out.__setitem__)
    assert set(out) == set(steps) and all(g.complete for g in out.values())
    # B's files ran beside A's long file: no drain to A's last request
    assert any("a0" in step and step & {"b0", "b1", "b2", "b3"} for step in sched.engine.steps)
    assert max(len(step) for step in sched.engine.steps) <= 4
    # 10 steps in all (a0's length), where batch by batch would take 11
    assert len(sched.engine.steps) == 10
    # engine time is shared by the requests of each step: it sums to the steps' time
    assert all(g.seconds is not None and g.seconds >= 0 for g in out.values())


def _task(path, file_id):
    st = os.stat(path)
    return FileTask(os.fsencode(path), st.st_size, st.st_mtime_ns, file_id=file_id)


def test_a_batch_goes_back_whole_and_in_order(tmp_path):
    (tmp_path / "a.txt").write_text("alpha\n")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "b.txt").write_text("beta\n")
    (tmp_path / "c.txt").write_text("")
    core = WorkerCore(None, 1 << 20)
    back = []
    feed = BatchFeed(core.read, lambda bid, outcomes, seconds: back.append((bid, outcomes)))
    feed.add(Batch(1, [_task(tmp_path / "a.txt", 10), _task(tmp_path / "empty.txt", 11),
                       _task(tmp_path / "b.txt", 12)]))
    feed.add(Batch(2, [_task(tmp_path / "c.txt", 13)]))  # nothing to analyze: back at once
    assert [bid for bid, _ in back] == [2] and back[0][1][0][1].status is Status.SKIPPED
    assert feed.queued == 2 and feed.open_batches == 1 and feed.oldest() is not None
    taken = feed.take(8)
    assert [key for key, _ in taken] == [(1, 10), (1, 12)]
    # outcomes arrive in any order; the batch goes back once, in the order it was sent
    feed.deliver((1, 12), AnalysisResult(taken[1][1].path, Status.DONE))
    assert len(back) == 1
    feed.deliver((1, 10), AnalysisResult(taken[0][1].path, Status.DONE))
    assert [bid for bid, _ in back] == [2, 1]
    assert [fid for fid, _ in back[1][1]] == [10, 11, 12]
    assert [r.status for _, r in back[1][1]] == [Status.DONE, Status.SKIPPED, Status.DONE]
    assert back[1][1][0][1].size == 6  # the file's size and mtime go with its result
    assert feed.open_batches == 0 and feed.oldest() is None


def test_a_real_run_streams_through_og_engine_and_loses_nothing(tmp_path, smollm2):
    """helios analyze with SmolLM2's full build on og.Engine (CPU), two in flight and
    batches of two: every file ends as one row and the batches all come back."""
    folder = tmp_path / "in"
    folder.mkdir()
    for rel in ("letters/thank_you.txt", "code/inventory.py", "logs/app.log",
                "config/app.ini", "docs/notes.txt"):
        (folder / os.path.basename(rel)).write_bytes((SAMPLES / rel).read_bytes())
    (folder / "empty.txt").write_text("")
    db = tmp_path / "h.db"
    result = helios(*analyze_args(folder, db, smollm2[1], "--set", "batching=continuous",
                                  "--set", "max_batch_size=2", "--set", "max_output_tokens=160",
                                  "--set", "model_fields=all"))
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    statuses = dict(conn.execute("SELECT path, status FROM files").fetchall())
    tokens = conn.execute("SELECT SUM(prompt_tokens) FROM performance_metrics").fetchone()[0]
    conn.close()
    assert len(statuses) == 6
    assert sorted(statuses.values()) == ["done"] * 5 + ["skipped"]
    assert tokens > 0  # the model ran
