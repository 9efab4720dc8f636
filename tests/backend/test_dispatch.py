"""The dispatch policy in one process: a real SQLite ledger, a fake clock, no workers."""

import pytest

from helios_desktop.backend.dispatch import DispatchPolicy
from helios_desktop.records import AnalysisResult, Reason, ScanChunk, Status
from helios_desktop.store.ledger import Ledger


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(tmp_path / "d.db")
    yield led
    led.close()


def make_run(ledger, n):
    run_id = ledger.start_run(b"/f", "m", "cpu", {})
    ledger.add_discovered(run_id, ScanChunk(paths=[f"/f/{i:03d}".encode() for i in range(n)]))
    return run_id


def done(batch):
    return [(item.file_id, AnalysisResult(item.path, Status.DONE, data={"summary": "x"}))
            for item in batch.items]


def policy_for(ledger, run_id, clock=None, **kw):
    return DispatchPolicy(ledger, run_id, clock=clock or Clock(), **kw)


def test_nothing_goes_to_a_worker_before_it_is_ready(ledger):
    policy = policy_for(ledger, make_run(ledger, 5))
    policy.add_worker(0)
    assert policy.fill(0) == []
    assert policy.set_ready(0, wants=2) is True
    assert policy.set_ready(0) is False  # only the first ready counts


def test_leases_what_the_engine_asks_for_two_batches_deep(ledger):
    run_id = make_run(ledger, 10)
    policy = policy_for(ledger, run_id)
    policy.add_worker(0)
    policy.set_ready(0, wants=3)
    batches = policy.fill(0)
    assert [len(b.items) for b in batches] == [3, 3]
    assert ledger.counts(run_id)["leased"] == 6
    assert policy.fill(0) == []  # full
    policy.complete(0, batches[0].batch_id, done(batches[0]))
    policy.set_wants(0, 1)  # the engine halved after an OOM
    assert [len(b.items) for b in policy.fill(0)] == [1]
    assert ledger.counts(run_id)["done"] == 3


def test_run_is_finished_only_when_every_file_has_an_outcome(ledger):
    run_id = make_run(ledger, 3)
    policy = policy_for(ledger, run_id)
    policy.add_worker(0)
    policy.set_ready(0, wants=8)
    (batch,) = policy.fill(0)
    assert not policy.finished(scan_done=True)
    policy.complete(0, batch.batch_id, done(batch))
    assert not policy.finished(scan_done=False)
    assert policy.finished(scan_done=True)


def test_a_dead_worker_charges_an_attempt_and_its_files_come_back_as_suspects(ledger):
    run_id = make_run(ledger, 4)
    policy = policy_for(ledger, run_id)
    policy.add_worker(0)
    policy.set_ready(0, wants=2)
    first, second = policy.fill(0)
    assert policy.worker_died(0) == []
    counts = ledger.counts(run_id)
    assert counts["pending"] == 4 and counts["leased"] == 0
    # The replacement gets a suspect alone, and nothing else until it comes back.
    policy.add_worker(0)
    policy.set_ready(0, wants=2)
    (suspect,) = policy.fill(0)
    assert len(suspect.items) == 1 and suspect.items[0].file_id == first.items[0].file_id
    assert policy.fill(0) == []
    policy.complete(0, suspect.batch_id, done(suspect))
    assert len(policy.fill(0)) == 1  # the next suspect, again alone


def test_a_poison_file_fails_as_worker_lost_after_max_attempts(ledger):
    run_id = make_run(ledger, 1)
    policy = policy_for(ledger, run_id, max_attempts=3)
    lost = []
    for _ in range(3):
        policy.add_worker(0)
        policy.set_ready(0)
        assert len(policy.fill(0)) == 1
        lost = policy.worker_died(0)
    assert lost == [b"/f/000"]
    assert ledger.counts(run_id)["failed"] == 1
    assert ledger.reasons(run_id) == {Reason.WORKER_LOST.value: 1}
    assert policy.finished(scan_done=True)


def test_a_worker_told_to_stop_is_sent_nothing_more(ledger):
    policy = policy_for(ledger, make_run(ledger, 5))
    policy.add_worker(0)
    policy.set_ready(0)
    policy.stop_sending(0)
    assert policy.fill(0) == []


def test_watchdog_by_the_clock(ledger):
    clock = Clock()
    policy = policy_for(ledger, make_run(ledger, 2), clock,
                        heartbeat_timeout=30, batch_timeout=900)
    policy.add_worker(0)
    policy.add_worker(1)
    clock.now += 29
    policy.heard_from(1, busy_since=None, beat=True)
    assert policy.stuck([0, 1]) == []
    clock.now += 2  # worker 0 silent for 31 s
    assert [wid for wid, _ in policy.stuck([0, 1])] == [0]
    assert "no heartbeat" in policy.stuck([0])[0][1]
    started = clock.now
    for _ in range(32):  # beating all along, but one batch runs past the batch timeout
        policy.heard_from(0, busy_since=started, beat=True)
        policy.heard_from(1, beat=True)
        clock.now += 29
    policy.heard_from(0, busy_since=started, beat=True)
    policy.heard_from(1, beat=True)
    (wid, why), = policy.stuck([0, 1])
    assert wid == 0 and "one batch running" in why
    assert policy.stuck([1]) == []  # only workers still alive are asked about
