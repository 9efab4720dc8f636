"""workers: auto and intra_op_threads: the real calibration with the tiny model, its cache,
the fallback when it fails, the run that starts the chosen number of workers, and the
GPU rule as a function of plain numbers."""

import json
import logging
import shutil
import subprocess
import sys

import pytest

from helios_desktop.backend import sizing
from helios_desktop.backend.messages import EngineSpec
from helios_desktop.config import ConfigError, load_settings
from helios_desktop.engines.model_folder import ModelFolder

from conftest import REPO, TINY_MODEL, analyze_args, events_of, helios

# the tiny model writes long strings: room for its outputs to close (as analyze_args)
LIMITS = {"max_output_tokens": 1200, "max_input_tokens": 256, "min_seconds": 0.5}


@pytest.fixture
def auto(monkeypatch):
    """workers: auto, as shipped (the suite otherwise runs one worker)."""
    monkeypatch.delenv("HELIOS_WORKERS", raising=False)


def _spec(model=TINY_MODEL, provider="cpu", **kw) -> EngineSpec:
    return EngineSpec(model=ModelFolder.read(model), provider=provider, schema={},
                      max_batch_size=8, max_input_tokens=256, max_output_tokens=1200,
                      max_file_size=10 * 1024 * 1024, **kw)


# -- the decision as plain numbers --------------------------------------------------------------

def test_candidates_fill_the_cores_without_oversubscribing():
    assert sizing.candidates(1) == [(1, 1)]
    assert sizing.candidates(2) == [(1, 2), (2, 1)]
    assert sizing.candidates(6) == [(1, 6), (2, 3), (4, 1), (6, 1)]
    assert sizing.candidates(16) == [(2, 8), (4, 4), (8, 2), (16, 1)]
    # intra_op_threads given: only the worker count is chosen
    assert sizing.candidates(8, threads=2) == [(1, 2), (2, 2), (4, 2)]
    assert sizing.candidates(2, threads=4) == [(1, 4)]
    # memory for one copy only
    assert sizing.candidates(8, max_workers=1) == [(1, 8)]


def test_gpu_workers_follow_free_memory():
    gib = 2**30
    # 70 of 80 GiB free, 1 GiB model (+1 GiB cache each): 31 fit, capped at 4
    n, why = sizing.gpu_workers(80 * gib, 70 * gib, 1 * gib)
    assert n == 4 and "at most 4" in why and "70.0 of 80.0 GiB" in why
    # 5 of 16 GiB free, 1 GiB model: 5 * 0.9 / 2 = 2 copies
    assert sizing.gpu_workers(16 * gib, 5 * gib, 1 * gib)[0] == 2
    # too little free memory for even one copy: still one worker (it may spill or fail)
    assert sizing.gpu_workers(8 * gib, int(0.5 * gib), 3 * gib)[0] == 1
    # a small model: the cache reserve is at least 512 MiB
    assert sizing.gpu_workers(24 * gib, 10 * gib, 256 * 2**20)[0] == 4
    assert sizing.gpu_workers(24 * gib, 2 * gib, 256 * 2**20)[0] == 2
    # paged attention (og.Engine sizes its cache to the GPU): one
    n, why = sizing.gpu_workers(80 * gib, 70 * gib, 1 * gib, paged=True)
    assert n == 1 and "paged" in why
    assert sizing.gpu_workers(0, 0, 1 * gib) == (1, "GPU memory unknown")


def test_gpu_plan_gives_every_gpu_what_the_fullest_holds():
    # round-robin assignment (worker i on GPU i % GPUs): GPU 0 fits 4, GPU 1 fits 1 -> 2
    n, why = sizing.gpu_plan([(4, "a lot free"), (1, "little free")])
    assert n == 2
    assert "GPU 0: 4 (a lot free)" in why and "GPU 1: 1 (little free)" in why
    assert "1 per GPU x 2 GPUs" in why
    assert sizing.gpu_plan([(3, "x"), (3, "y"), (2, "z")])[0] == 6
    assert sizing.gpu_plan([(2, "room for two")]) == (2, "GPU 0: 2 (room for two)")
    assert sizing.gpu_plan([])[0] == 1


def test_the_cache_key_holds_batching_and_batch_size():
    folder = ModelFolder.read(TINY_MODEL)
    keys = {sizing._key_id(sizing.calibration_key(folder, "cpu", b, m))
            for b, m in (("auto", 8), ("static", 8), ("auto", 4))}
    assert len(keys) == 3


def test_configured_numbers_are_used_as_given(monkeypatch):
    settings = load_settings(overrides={"workers": 2, "intra_op_threads": 3})
    s = sizing.decide(settings, _spec())
    assert (s.workers, s.intra_op_threads, s.source) == (2, 3, "configured")
    assert "command line" in s.why
    # threads auto with a worker count: the cores shared among the workers
    settings = load_settings(overrides={"workers": 2})
    s = sizing.decide(settings, _spec())
    assert s.intra_op_threads == max(1, sizing.cpu_cores() // 2)
    assert "cores" in s.why


def test_config_validation_names_the_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("HELIOS_WORKERS", raising=False)
    assert load_settings().workers == "auto"
    assert load_settings().sources["workers"] == "default"
    assert load_settings(overrides={"workers": 0}).workers == "auto"  # 0 still means auto
    assert load_settings(overrides={"workers": "AUTO"}).workers == "auto"
    assert load_settings(overrides={"intra_op_threads": 4}).intra_op_threads == 4
    for key, bad in (("workers", "some"), ("workers", 65), ("workers", -1), ("workers", 1.5),
                     ("intra_op_threads", 0), ("intra_op_threads", "many"),
                     ("intra_op_threads", True)):
        with pytest.raises(ConfigError) as info:
            load_settings(overrides={key: bad})
        assert f"'{key}'" in str(info.value) and "auto or an integer" in str(info.value)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("intra_op_threads: -2\n")
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    assert str(cfg) in str(info.value) and "'intra_op_threads'" in str(info.value)
    bad = helios("analyze", tmp_path, "--workers", "lots")
    assert bad.returncode == 1 and "'workers'" in bad.stderr and "Traceback" not in bad.stderr


# -- intra_op_threads reaches ONNX Runtime ----------------------------------------------------

THREADS = """
import os, sys
from helios_desktop.analysis.schema import load_schema
from helios_desktop.engines.onnx import ONNXInferenceEngine
n = int(sys.argv[2])
engine = ONNXInferenceEngine(sys.argv[1], load_schema(None), provider="cpu",
                             intra_op_threads=n or None)
print(len(os.listdir("/proc/self/task")))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads in /proc")
def test_intra_op_threads_sizes_the_runtime_thread_pool():
    def threads(n: int) -> int:
        out = subprocess.run([sys.executable, "-c", THREADS, str(TINY_MODEL), str(n)],
                             capture_output=True, text=True, cwd=REPO, check=True, timeout=120)
        return int(out.stdout.split()[-1])

    # ONNX Runtime's intra-op pool has n - 1 threads of its own (the caller is the n-th)
    assert threads(4) - threads(1) == 3
    assert threads(3) - threads(1) == 2


# -- the real calibration and its cache --------------------------------------------------------

def test_calibration_measures_caches_and_is_read_back(auto, caplog):
    folder = ModelFolder.read(TINY_MODEL)
    path = sizing.cache_file()
    assert sizing.cached(folder, "cpu") is None
    entry = sizing.calibrate(folder, "cpu", limits=LIMITS)
    pairs = sizing.candidates(sizing.cpu_cores())
    assert [(m["workers"], m["intra_op_threads"]) for m in entry["measured"]] == pairs
    best = max(entry["measured"], key=lambda m: m["files_per_second"])
    assert (entry["workers"], entry["intra_op_threads"]) == (best["workers"],
                                                             best["intra_op_threads"])
    for m in entry["measured"]:
        assert m["files"] >= entry["files"] and m["generated_tokens"] > 0
    assert entry["key"]["cores"] == sizing.cpu_cores() and entry["key"]["provider"] == "cpu"
    data = json.loads(path.read_text())
    assert data["version"] == sizing.CACHE_VERSION and len(data["entries"]) == 1

    # the second call reads it: no measurement, the same numbers
    settings = load_settings(overrides={"model_path": str(TINY_MODEL)})
    s = sizing.decide(settings, _spec())
    assert s.source == "cached" and s.cache == str(path)
    assert (s.workers, s.intra_op_threads) == (entry["workers"], entry["intra_op_threads"])
    assert not sizing.will_calibrate(settings, _spec())

    # another model (or a changed one) is another entry
    assert sizing.cached(ModelFolder.read(TINY_MODEL), "cuda") is None

    # helios config show says what was measured and where it is cached
    show = helios("config", "show", "--set", f"model_path={TINY_MODEL}", check=True).stdout
    line = next(l for l in show.splitlines() if l.startswith("workers "))
    assert f"calibrated {entry['workers']} worker" in line and str(path) in line
    assert next(l for l in show.splitlines() if l.startswith("intra_op_threads ")).endswith(
        line.split("# default", 1)[1])


def test_config_show_before_calibration_and_config_calibrate(auto, tmp_path):
    show = helios("config", "show", "--set", f"model_path={TINY_MODEL}", check=True).stdout
    assert "not calibrated yet for tiny-llama" in show
    forced = helios("config", "show", "--set", f"model_path={TINY_MODEL}", "--set", "workers=2",
                    "--set", "intra_op_threads=1", check=True).stdout
    assert "calibrat" not in forced
    out = helios("config", "calibrate", "--model", TINY_MODEL, "--set", "max_output_tokens=1200",
                 "--set", "max_input_tokens=256", "--provider", "cpu", check=True)
    assert "chosen: workers" in out.stdout and str(sizing.cache_file()) in out.stdout
    assert out.stdout.count("files/s") == len(sizing.candidates(sizing.cpu_cores()))
    assert sizing.cached(ModelFolder.read(TINY_MODEL), "cpu") is not None


@pytest.mark.parametrize("content", [
    "{not json",
    json.dumps({"version": 0, "entries": {}}),
    "[1, 2]",
    "\udcff",
])
def test_a_corrupt_or_old_cache_is_measured_again(auto, caplog, content):
    path = sizing.cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, "utf-8", errors="surrogateescape")
    folder = ModelFolder.read(TINY_MODEL)
    with caplog.at_level(logging.WARNING, logger="helios.sizing"):
        assert sizing.cached(folder, "cpu") is None
    assert str(path) in caplog.text
    settings = load_settings(overrides={"model_path": str(TINY_MODEL)})
    assert sizing.will_calibrate(settings, _spec())
    # the old rule until measured, never an error
    s = sizing.decide(settings, _spec(), calibrate_now=False)
    assert (s.workers, s.intra_op_threads, s.source) == (1, None, "fallback")


def test_a_malformed_entry_is_measured_again_and_replaced(auto, caplog):
    folder = ModelFolder.read(TINY_MODEL)
    path = sizing.cache_file()
    key = sizing.calibration_key(folder, "cpu")
    sizing._write_cache(path, key, {"workers": "two", "intra_op_threads": 1})
    with caplog.at_level(logging.WARNING, logger="helios.sizing"):
        assert sizing.cached(folder, "cpu") is None
    assert "malformed" in caplog.text
    settings = load_settings(overrides={"model_path": str(TINY_MODEL)})
    spec = _spec()
    spec.max_output_tokens, spec.max_input_tokens = 300, 256
    s = sizing.decide(settings, spec)
    assert s.source == "calibrated" and isinstance(s.workers, int)
    assert sizing.cached(folder, "cpu")["workers"] == s.workers


def test_a_failing_calibration_falls_back_to_one_worker(auto, tmp_path, caplog):
    broken = tmp_path / "broken-model"
    shutil.copytree(TINY_MODEL, broken)
    (broken / "model.onnx").write_bytes(b"this is not an ONNX graph")
    settings = load_settings(overrides={"model_path": str(broken)})
    with caplog.at_level(logging.WARNING, logger="helios.sizing"):
        s = sizing.decide(settings, _spec(broken))
    assert (s.workers, s.intra_op_threads, s.source) == (1, None, "fallback")
    assert "calibration failed" in s.why and "calibration failed" in caplog.text
    # the failure is cached: the next run starts at once with one worker, measuring nothing
    entry = sizing.cached(ModelFolder.read(broken), "cpu")
    assert entry["workers"] == 1 and entry["intra_op_threads"] is None
    assert "no candidate could be measured" in entry["failed"]
    assert not sizing.will_calibrate(settings, _spec(broken))
    told = []
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="helios.sizing"):
        again = sizing.decide(settings, _spec(broken), progress=told.append)
    assert told == [] and "calibration of" not in caplog.text
    assert (again.workers, again.intra_op_threads, again.source) == (1, None, "fallback")
    assert again.why.startswith("calibration failed on ") and "helios config calibrate" in again.why
    # config show says so
    show = helios("config", "show", "--set", f"model_path={broken}", check=True).stdout
    line = next(l for l in show.splitlines() if l.startswith("workers "))
    assert "calibration failed on" in line and "one worker" in line
    # helios config calibrate measures again (and fails again, saying why)
    out = helios("config", "calibrate", "--model", broken, "--provider", "cpu")
    assert out.returncode == 1 and "calibrating: 1 worker" in out.stderr
    assert "calibration failed" in out.stderr and "Traceback" not in out.stderr
    assert sizing.cached(ModelFolder.read(broken), "cpu")["at"] > entry["at"]


def test_a_stopped_calibration_caches_nothing(auto):
    import threading

    cancel = threading.Event()
    cancel.set()
    folder = ModelFolder.read(TINY_MODEL)
    with pytest.raises(sizing.CalibrationInterrupted):
        sizing.calibrate(folder, "cpu", limits=LIMITS, cancel=cancel)
    assert sizing.cached(folder, "cpu") is None


def test_an_unwritable_cache_keeps_the_measured_result(auto, tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would be")
    path = blocker / "calibration.json"
    with caplog.at_level(logging.WARNING, logger="helios.sizing"):
        entry = sizing.calibrate(ModelFolder.read(TINY_MODEL), "cpu", limits=LIMITS, path=path)
    assert entry["workers"] >= 1 and len(entry["measured"]) == len(
        sizing.candidates(sizing.cpu_cores()))
    assert "cannot be written" in caplog.text and str(path) in caplog.text


# -- the lock: another process calibrating -------------------------------------------------

HOLDER = """
import fcntl, json, sys, time
from helios_desktop.backend import sizing
from helios_desktop.engines.model_folder import ModelFolder
path = __import__("pathlib").Path(sys.argv[1])
lock = open(path.with_name(path.name + ".lock"), "w")
fcntl.flock(lock, fcntl.LOCK_EX)
print("locked", flush=True)
if sys.stdin.readline().strip() == "write":
    key = sizing.calibration_key(ModelFolder.read(sys.argv[2]), "cpu")
    sizing._write_cache(path, key, {"workers": 3, "intra_op_threads": 1, "at": time.time(),
                                    "measured": [{"workers": 3, "intra_op_threads": 1,
                                                  "files_per_second": 42.0}]})
lock.close()
print("released", flush=True)
"""


@pytest.fixture
def holder():
    """A second process holding the calibration lock until told."""
    procs = []

    def start(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(TINY_MODEL)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "locked"
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_waiting_for_the_lock_honours_a_stop(auto, holder):
    import threading

    path = sizing.cache_file()
    proc = holder(path)
    cancel = threading.Event()
    told = []

    def progress(message):
        told.append(message)
        if "waiting for another calibration" in message:
            cancel.set()  # the stop arrives while this one waits

    with pytest.raises(sizing.CalibrationInterrupted, match="stopped"):
        sizing.calibrate(ModelFolder.read(TINY_MODEL), "cpu", limits=LIMITS, cancel=cancel,
                         progress=progress)
    assert len(told) == 1 and proc.poll() is None  # it never measured; the holder still holds
    assert sizing.cached(ModelFolder.read(TINY_MODEL), "cpu") is None
    # out of budget while waiting: the same, nothing cached
    with pytest.raises(sizing.CalibrationInterrupted, match="whole time allowed"):
        sizing.calibrate(ModelFolder.read(TINY_MODEL), "cpu", limits=LIMITS, budget=0.3)
    assert sizing.cached(ModelFolder.read(TINY_MODEL), "cpu") is None


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_an_entry_written_while_waiting_is_used_without_measuring(auto, holder):
    path = sizing.cache_file()
    proc = holder(path)
    told = []

    def progress(message):
        told.append(message)
        if "waiting for another calibration" in message:
            proc.stdin.write("write\n")
            proc.stdin.flush()

    entry = sizing.calibrate(ModelFolder.read(TINY_MODEL), "cpu", limits=LIMITS,
                             progress=progress)
    assert (entry["workers"], entry["intra_op_threads"]) == (3, 1)
    assert entry["measured"][0]["files_per_second"] == 42.0
    assert told == ["calibrating: waiting for another calibration on this machine..."]
    assert proc.stdout.readline().strip() == "released"


def test_a_stop_during_calibration_ends_it(auto):
    import threading

    cancel = threading.Event()
    cancel.set()
    settings = load_settings(overrides={"model_path": str(TINY_MODEL)})
    s = sizing.decide(settings, _spec(), cancel=cancel)
    assert s.source == "fallback" and "stopped" in s.why


# -- a real run ----------------------------------------------------------------------------------

def test_analyze_with_workers_auto_starts_the_chosen_number_of_workers(auto, tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    for i in range(12):
        (folder / f"note{i}.txt").write_text(f"Note {i}: the pump in greenhouse {i} was serviced.\n")
    db = tmp_path / "h.db"
    first = helios(*analyze_args(folder, db, TINY_MODEL, "--events", "jsonl", "--provider", "cpu"))
    assert first.returncode == 0, first.stderr
    assert "workers auto: measuring" in first.stderr
    events = events_of(first.stdout)
    names = [e["event"] for e in events]
    # the window hears that a calibration runs before the run starts
    assert "calibrating" in names and names.index("calibrating") < names.index("run_started")
    calibrating = events[names.index("calibrating")]
    assert calibrating["model"] == ModelFolder.read(TINY_MODEL).name and calibrating["budget_s"] > 0
    started = next(e for e in events if e["event"] == "run_started")
    entry = sizing.cached(ModelFolder.read(TINY_MODEL), "cpu")
    assert entry is not None
    assert started["sizing"] == "calibrated"
    assert (started["workers"], started["intra_op_threads"]) == (entry["workers"],
                                                                 entry["intra_op_threads"])
    started_workers = {(e["worker"], e["pid"]) for e in events
                       if e["event"] == "worker" and e["state"] == "starting"}
    assert len({w for w, _ in started_workers}) == entry["workers"]
    assert len(started_workers) == entry["workers"]  # no restarts: one process each
    assert f"workers: {entry['workers']} worker" in first.stderr  # the summary line
    # the second run reads the cache
    second = helios(*analyze_args(folder, db, TINY_MODEL, "--events", "jsonl", "--fresh",
                                  "--provider", "cpu"))
    assert second.returncode == 0, second.stderr
    assert "measuring" not in second.stderr
    assert "calibrating" not in [e["event"] for e in events_of(second.stdout)]
    started = next(e for e in events_of(second.stdout) if e["event"] == "run_started")
    assert started["sizing"] == "cached" and started["workers"] == entry["workers"]
    # one log line at run start says how many and why
    log = (tmp_path / "home" / "state" / "helios" / "helios.log").read_text()
    lines = [json.loads(l)["message"] for l in log.splitlines() if '"run ' in l]
    assert any(f"{entry['workers']} worker" in l and "(calibrated: measured" in l for l in lines)
    assert any("(cached: measured" in l for l in lines)


def test_a_stop_while_calibrating_starts_no_worker_and_leaves_the_run_resumable(auto, tmp_path):
    import os

    from helios_desktop.store.ledger import Ledger

    folder = tmp_path / "f"
    folder.mkdir()
    for i in range(4):
        (folder / f"note{i}.txt").write_text(f"Note {i}: the pump was serviced.\n")
    db = tmp_path / "h.db"
    proc = subprocess.Popen([sys.executable, "-m", "helios_desktop",
                             *map(str, analyze_args(folder, db, TINY_MODEL, "--events", "jsonl",
                                                    "--provider", "cpu"))],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if json.loads(line)["event"] == "calibrating":
            proc.stdin.write("stop\n")
            proc.stdin.flush()
            break
    out, err = proc.communicate(timeout=120)
    events = events_of("".join(lines) + out)
    names = [e["event"] for e in events]
    assert proc.returncode == 130, err  # as any stopped run
    assert "calibrating" in names and "run_finished" in names
    assert not [e for e in events if e["event"] == "worker"]  # no worker process started
    started = next(e for e in events if e["event"] == "run_started")
    assert started["sizing"] == "fallback" and "stopped" in started["sizing_why"]
    finished = next(e for e in events if e["event"] == "run_finished")
    assert finished["status"] == "interrupted" and finished["error"] is None
    assert sizing.cached(ModelFolder.read(TINY_MODEL), "cpu") is None  # a stop teaches nothing
    ledger = Ledger(str(db))
    try:
        assert ledger.unfinished_run(os.fsencode(str(folder))) == started["run_id"]
    finally:
        ledger.close()
