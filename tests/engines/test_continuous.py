"""og.Engine (continuous batching): a real chat model on the CPU, and the per-request
failure policy against an engine that fails on purpose."""

from collections import Counter

import numpy as np
import onnxruntime_genai as og
import pytest

from helios_desktop.analysis.schema import load_schema
from helios_desktop.engines.continuous import ContinuousScheduler, EngineUnhealthy, Failure
from helios_desktop.engines.onnx import ONNXInferenceEngine
from helios_desktop.records import Reason, Status

from conftest import sample_documents


def test_og_engine_on_the_cpu_with_the_full_smollm2_build(smollm2):
    docs = sample_documents(["letters/thank_you.txt", "code/inventory.py", "logs/app.log"])
    engine = ONNXInferenceEngine(smollm2[1], load_schema(None), provider="cpu",
                                 batching="continuous", max_batch_size=2, max_input_tokens=128)
    assert engine.scheduler is not None
    results = engine.analyze(docs)
    assert [r.path for r in results] == [d.path for d in docs]
    reasons = Counter(r.reason for r in results if r.status is not Status.DONE)
    assert Reason.ENGINE_ERROR not in reasons, [r.message for r in results]
    assert sum(r.status is Status.DONE for r in results) >= 2, [r.message for r in results]
    engine.close()


# -- the failure policy, with an engine that fails as scripted --------------------------------

class _Event:
    def __init__(self, request, flags, token=None, code=og.EngineErrorCode.NONE,
                 finish=og.FinishReason.NONE):
        self.request, self.flags, self.token = request, flags, token
        self.error_code, self.finish_reason = code, finish


class _Request:
    def __init__(self, ids):
        self.ids = ids

    def close(self):
        pass


class _ScriptedEngine:
    """Answers each request with '{}' unless its first token id is in ``fail``: then with
    the scripted failure (once per submission)."""

    def __init__(self, fail):
        self.fail = fail
        self.live = []
        self.most_in_flight = 0

    def create_event_buffer(self, n):
        return None

    def run(self, buffer):
        self.most_in_flight = max(self.most_in_flight, len(self.live))
        events = []
        for request in list(self.live):
            self.live.remove(request)
            how = self.fail.get(int(request.ids[0]))
            if how == "raise":
                raise RuntimeError("ENGINE_EXECUTION_FAILURE: the engine broke")
            if how is not None:
                events.append(_Event(request, int(og.EngineEventFlags.FAILED) | how[1], code=how[0]))
                continue
            events.append(_Event(request, int(og.EngineEventFlags.TOKEN), token=1))
            events.append(_Event(request, int(og.EngineEventFlags.TURN_FINISHED),
                                 finish=og.FinishReason.EOS))
        return events


class _Scripted(ContinuousScheduler):
    def __init__(self, owner, fail):
        self.owner, self.og = owner, og
        self.fail = fail
        self.engine = _ScriptedEngine(fail)
        self.rebuilds = 0
        self.cap = 0

    def rebuild(self):
        self.rebuilds += 1
        self.engine = _ScriptedEngine(self.fail)

    def _submit(self, item):
        item.request, item.tokens = _Request(item.ids), []
        self.engine.live.append(item.request)


class _Owner:
    max_output_tokens, max_batch_size, provider = 16, 4, "cuda"

    def __init__(self):
        self.batch_size = 4
        self.resized = []

    def _resize(self, size, why):
        self.resized.append(size)
        self.batch_size = size

    def decode(self, tokens):
        return "{}"


def _items(n):
    return [(i, np.array([i], dtype=np.int32), "text") for i in range(n)]


def test_one_unserviceable_request_fails_alone_and_the_others_are_fed_continuously():
    owner = _Owner()
    sched = _Scripted(owner, {2: (og.EngineErrorCode.REQUEST_UNSERVICEABLE, 0)})
    out = sched.run(_items(10))
    assert isinstance(out[2], Failure) and out[2].reason == Reason.ENGINE_ERROR
    assert "REQUEST_UNSERVICEABLE" in out[2].message
    assert all(out[i].text == "{}" for i in range(10) if i != 2)
    assert sched.engine.most_in_flight == 4  # never more than the batch size


def test_never_more_in_flight_than_the_engine_takes():
    owner = _Owner()
    sched = _Scripted(owner, {})
    sched.cap = 2  # the engine's configured_max_batch_size, below the batch size of 4
    out = sched.run(_items(7))
    assert len(out) == 7 and sched.engine.most_in_flight == 2


def test_base_models_get_their_grammar_on_og_engine_too(tiny_model):
    engine = ONNXInferenceEngine(tiny_model, load_schema(None), provider="cpu",
                                 batching="continuous", max_batch_size=2, max_output_tokens=64)
    kind, grammar = engine.request_guidance("python source")
    assert not engine.chat and kind == "lark_grammar"
    assert '"This python source ' in grammar and "tail" not in grammar  # no endless tail
    engine.close()


def test_og_engine_on_a_pruned_model_says_so(tiny_model):
    # The tiny model computes logits for the last position only (pruned): og.Engine on
    # the CPU cannot run it, and the error says what to build instead.
    engine = ONNXInferenceEngine(tiny_model, load_schema(None), provider="cpu",
                                 batching="continuous", max_batch_size=2, max_output_tokens=64)
    with pytest.raises(EngineUnhealthy, match="prune_lm_head"):
        engine.analyze(sample_documents(["code/inventory.py"]))
    engine.close()


def test_og_engine_requests_are_greedy(smollm2):
    # Builders copy do_sample from the checkpoint's generation config (Llama 3.2 Instruct
    # says true): each request sets greedy decoding itself.
    engine = ONNXInferenceEngine(smollm2[1], load_schema(None), provider="cpu",
                                 batching="continuous", max_batch_size=2, max_input_tokens=64,
                                 max_output_tokens=48)
    calls = []

    class Recording(og.TurnOptions):
        def set_do_sample(self, value):
            calls.append(value)
            return super().set_do_sample(value)

    fake_og = type("og", (), {name: getattr(og, name) for name in dir(og) if not name.startswith("_")})
    fake_og.TurnOptions = Recording
    engine.scheduler.og = fake_og
    ids = engine.prepare(sample_documents(["letters/thank_you.txt"]))[0].ids
    outcomes = engine.scheduler.run([(0, ids, "text")])
    assert calls == [False] and not isinstance(outcomes[0], Failure)
    engine.close()


def test_retryable_requests_go_again_and_capacity_errors_halve_the_batch():
    owner = _Owner()
    flaky = {1: (og.EngineErrorCode.RETRYABLE_EXECUTION, int(og.EngineEventFlags.RETRYABLE))}
    sched = _Scripted(owner, flaky)
    out = sched.run(_items(3))
    assert isinstance(out[1], Failure) and "after 2 retries" in out[1].message  # always fails
    owner = _Owner()
    sched = _Scripted(owner, {0: (og.EngineErrorCode.EXECUTION_CAPACITY_EXCEEDED, 0)})
    out = sched.run(_items(3))
    assert owner.resized == [2, 1]
    assert isinstance(out[0], Failure) and out[0].reason == Reason.OOM
    assert out[1].text == "{}" and out[2].text == "{}"


def test_an_unhealthy_engine_is_rebuilt_once_then_the_worker_must_go():
    owner = _Owner()
    sched = _Scripted(owner, {0: "raise"})
    with pytest.raises(EngineUnhealthy):
        sched.run(_items(3))
    assert sched.rebuilds == 1


def test_auto_batching_takes_og_engine_for_an_unpruned_build_only(smollm2):
    pruned, full = smollm2
    for folder, continuous in ((pruned, False), (full, True)):
        engine = ONNXInferenceEngine(folder, load_schema(None), provider="cpu")
        assert (engine.scheduler is not None) is continuous, folder
        engine.close()
