"""The HTTP engine's scheduler on its own: endpoint choice, breaker and retries with a fake
clock (no server, no event loop), as DispatchPolicy's tests drive the dispatch policy."""

import pytest

from helios_desktop.engines.openai.errors import Failure
from helios_desktop.engines.openai.scheduler import (BACKOFF_BASE, EndpointScheduler,
                                                     EndpointsDown, EndpointsMisconfigured)
from helios_desktop.engines.spec import EndpointsSpec
from helios_desktop.records import Document, Reason, Status

A, B = "http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"


def scheduler(*urls, concurrency=2, down=10.0, attempts=4):
    spec = EndpointsSpec(urls=urls, api_model="m", max_concurrency=concurrency,
                         down_timeout=down, max_attempts=attempts)
    # jitter pinned to its upper bound: backoffs are exact
    return EndpointScheduler(spec, max_input_tokens=256, max_output_tokens=64,
                             jitter=lambda lo, hi: hi)


def docs(n):
    return [Document(f"f{i}.txt".encode(), "text", f"text {i}") for i in range(n)]


def test_jobs_go_to_the_least_loaded_endpoint_up_to_its_capacity():
    s = scheduler(A, B, concurrency=2)
    batch = s.start(docs(5))
    sent = s.assign(batch, now=0.0)
    assert [ep.url for ep, _ in sent] == [A, B, A, B]  # balanced, capacity 2 each
    assert [job.index for _, job in sent] == [0, 1, 2, 3]
    assert len(batch.queue) == 1 and s.assign(batch, now=0.0) == []
    s.release(sent[0][0])
    assert [(ep.url, job.index) for ep, job in s.assign(batch, now=0.0)] == [(A, 4)]


def test_a_failure_opens_the_breaker_then_one_probe_half_opens_it():
    s = scheduler(A, B, concurrency=1)
    batch = s.start(docs(3))
    (a, ja), (b, jb) = s.assign(batch, now=0.0)
    s.release(a)
    s.failed(batch, a, ja, Failure("refused", "cannot connect"), now=0.0)
    assert not a.up and a.open_until == pytest.approx(BACKOFF_BASE)
    assert ja.attempts == 0  # a dead server does not count against the file
    assert [j.index for j in batch.queue] == [2, 0]
    assert s.assign(batch, now=0.1) == []  # B is busy, A is open
    sent = s.assign(batch, now=BACKOFF_BASE)  # half open: one probe to A
    assert [(ep.url, j.index) for ep, j in sent] == [(A, 2)]
    s.release(a)
    s.succeeded(a, 0.5)
    assert a.up and a.latency_ewma == 0.5


def test_charged_failures_back_the_file_off_then_fail_it_as_engine_error():
    s = scheduler(A, attempts=2)
    batch = s.start(docs(1))
    (ep, job), = s.assign(batch, now=0.0)
    s.release(ep)
    s.failed(batch, ep, job, Failure("server_error", "HTTP 500"), now=0.0)
    assert job.attempts == 1 and job.not_before == pytest.approx(BACKOFF_BASE * 2)
    assert s.wake(batch, now=0.0) == pytest.approx(BACKOFF_BASE)  # the breaker first
    (ep, job), = s.assign(batch, now=1.0)
    s.release(ep)
    s.failed(batch, ep, job, Failure("timeout", "no answer"), now=1.0)
    result = batch.results[0]
    assert result.status == Status.FAILED and result.reason == Reason.ENGINE_ERROR
    assert "after 2 attempts" in result.message and batch.finished


def test_retry_after_is_honoured_exactly():
    s = scheduler(A)
    batch = s.start(docs(1))
    (ep, job), = s.assign(batch, now=0.0)
    s.release(ep)
    s.failed(batch, ep, job, Failure("throttled", "HTTP 429", retry_after=7.0), now=3.0)
    assert ep.open_until == 10.0 and s.assign(batch, now=9.9) == []
    assert len(s.assign(batch, now=10.0)) == 1


def test_every_endpoint_down_past_the_timeout_stops_with_the_results_so_far():
    s = scheduler(A, down=10.0)
    batch = s.start(docs(2))
    (ep, j0), (_, j1) = s.assign(batch, now=0.0)
    s.release(ep)
    s.release(ep)
    s.succeeded(ep, 0.1)
    batch.results[0] = "kept"
    s.failed(batch, ep, j1, Failure("refused", "cannot connect"), now=1.0)
    s.check_down(batch, now=1.0, running=False)
    assert batch.down_since == 1.0
    s.check_down(batch, now=10.9, running=False)
    with pytest.raises(EndpointsDown) as down:
        s.check_down(batch, now=11.0, running=False)
    assert down.value.results == {0: "kept"} and "endpoint_down_timeout" in str(down.value)


def test_refusals_after_answers_fail_the_file_then_take_the_endpoint_out():
    s = scheduler(A, concurrency=8)
    batch = s.start(docs(5))
    sent = s.assign(batch, now=0.0)
    ep = sent[0][0]
    s.succeeded(ep, 0.1)  # it answered with these settings
    for _, job in sent[:3]:
        s.failed(batch, ep, job, Failure("misconfigured", "HTTP 403"), now=0.0)
    assert sorted(batch.results) == [0, 1, 2] and not ep.misconfigured
    s.failed(batch, ep, sent[3][1], Failure("misconfigured", "HTTP 403"), now=0.0)
    assert ep.misconfigured == "HTTP 403"
    with pytest.raises(EndpointsMisconfigured, match="each is misconfigured"):
        s.check_misconfigured(batch)


def test_a_context_too_small_for_the_answer_is_a_setting():
    s = scheduler(A)
    batch = s.start(docs(1))
    (ep, job), = s.assign(batch, now=0.0)
    s.failed(batch, ep, job, Failure("too_long", "HTTP 400", raw=b"n_ctx=70"), now=0.0)
    assert "max_output_tokens (64)" in ep.misconfigured and list(batch.queue) == [job]
