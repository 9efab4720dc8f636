"""`helios models pull` with the real huggingface_hub client against a stand-in hub on
127.0.0.1 (tests/hub_server.py, set through HF_ENDPOINT) serving the committed tiny model."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from conftest import REPO, TINY_MODEL, helios
from hub_server import SUBFOLDER, HubServer

DATA = f"{SUBFOLDER}/model.onnx.data"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    server = HubServer(TINY_MODEL).start()
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump({"models": [
        server.entry("tiny-llama-hub"),
        server.entry("tiny-llama-licensed", licence="tiny test licence", licence_file="LICENSE"),
    ]}))
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # no cache shared with the user
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HELIOS_CATALOG", str(catalog))
    yield server
    server.stop()


def _entry(name="tiny-llama-hub"):
    from helios_desktop.engines.hub_catalog import find_entry

    return find_entry(name)


def _models() -> Path:
    from helios_desktop.paths import models_dir

    return models_dir()


def _same_as_tiny(folder: Path) -> None:
    for src in TINY_MODEL.iterdir():
        assert (folder / src.name).read_bytes() == src.read_bytes(), src.name


def test_shipped_catalog_pins_commits_and_names_its_sources():
    from helios_desktop.engines.hub_catalog import _read, CATALOG_FILE
    from helios_desktop.resources import resource_path

    path = resource_path(CATALOG_FILE)
    entries = _read(path)
    text = path.read_text()
    assert {e.runtime for e in entries} == {"cpu", "cuda"}
    for e in entries:
        assert re.fullmatch(r"[0-9a-f]{40}", e.revision)
        assert e.model_fields is None  # none measured: each decides every field
        # every entry cites the hub page it was checked against, at its pinned commit
        assert f"/tree/{e.revision}" in text, e.name
        if "llama" in e.name:
            assert e.needs_acceptance and e.licence == "Llama 3.2 Community License"


def test_catalog_json_lists_entries_with_fit(hub):
    out = helios("models", "catalog", "--json", check=True).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["tiny-llama-hub"]["revision"] == hub.entry()["revision"]
    assert rows["tiny-llama-hub"]["fits"] is True
    for key in ("name", "repo", "subfolder", "revision", "runtime", "size_bytes", "licence"):
        assert key in rows["llama-3.2-3b-instruct-int4-cpu"]
    table = helios("models", "catalog", check=True).stdout
    assert "# this machine:" in table and "tiny-llama-hub" in table


def test_whole_pull_is_verified_used_listed_and_analyzed(hub, tmp_path):
    result = helios("models", "pull", "tiny-llama-hub", check=True)
    folder = Path(result.stdout.strip())
    assert folder == _models() / "tiny-llama-hub"
    _same_as_tiny(folder)
    marker = json.loads((folder / "helios_model.json").read_text())
    assert marker["revision"] == hub.entry()["revision"] and marker["repo"] == hub.entry()["repo"]
    assert "model_fields" not in marker  # unmeasured: every field
    assert re.search(r"B/s\s+ETA", result.stderr)  # size, speed and ETA were shown
    # only the subfolder (and no LICENSE) was fetched, at the pinned commit
    fetched = {r[1] for r in hub.requests if r[0] == "GET" and "/resolve/" in r[1]}
    assert fetched and all(f"/{SUBFOLDER}/" in p and hub.entry()["revision"] in p for p in fetched)
    assert not list(_models().glob(".*partial"))

    verify = helios("models", "verify", folder, check=True)
    assert json.loads(verify.stdout)["valid_json"] is True
    helios("models", "use", "tiny-llama-hub", check=True)
    listing = helios("models", "list", check=True).stdout.splitlines()
    assert listing[0].split()[:2] == ["NAME", "SIZE"]
    assert any(line.startswith("* tiny-llama-hub") for line in listing)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text("Meeting notes: ship the release on Friday.\n")
    (docs / "setup.cfg").write_text("[metadata]\nname = demo\n")
    run = helios("analyze", docs, "--db", tmp_path / "r.db", check=True)
    assert "2 done" in run.stdout

    assert helios("models", "rm", "tiny-llama-hub").returncode == 1  # the active one
    helios("models", "use", TINY_MODEL, check=True)
    helios("models", "rm", "tiny-llama-hub", check=True)
    assert not folder.exists()


def test_licence_is_shown_and_must_be_accepted(hub):
    refused = helios("models", "pull", "tiny-llama-licensed", input="n\n")
    assert refused.returncode == 1
    assert "TINY TEST MODEL LICENCE" in refused.stderr and "not accepted" in refused.stderr
    assert not any(f"/{SUBFOLDER}/" in r[1] for r in hub.requests if r[0] == "GET")
    assert not (_models() / "tiny-llama-licensed").exists()
    accepted = helios("models", "pull", "tiny-llama-licensed", input="y\n", check=True)
    assert Path(accepted.stdout.strip()).is_dir()
    marker = json.loads((Path(accepted.stdout.strip()) / "helios_model.json").read_text())
    assert marker["licence_accepted"] is True


def test_pull_refuses_an_unaccepted_licence_in_the_api(hub):
    from helios_desktop.engines.hub_pull import LicenceNotAccepted, pull

    with pytest.raises(LicenceNotAccepted):
        pull(_entry("tiny-llama-licensed"))
    assert not hub.requests


def test_connection_dropped_mid_file_is_resumed_or_restarted(hub):
    from helios_desktop.engines.hub_pull import pull

    hub.drop[DATA] = [300_000]
    seen = []
    folder = pull(_entry(), progress=seen.append)
    _same_as_tiny(folder)
    assert len(hub.gets(DATA)) == 2  # the cut transfer, then its resumption or restart
    assert seen[-1].done_bytes == seen[-1].total_bytes


def test_failed_pull_installs_nothing_and_the_next_one_goes_on(hub):
    from helios_desktop.engines.hub_pull import PullError, partial_dir, pull

    hub.drop[DATA] = [300_000] * 7  # more cuts than the client retries
    with pytest.raises(PullError, match="nothing was installed"):
        pull(_entry())
    assert not (_models() / "tiny-llama-hub").exists()
    part = partial_dir(_models(), "tiny-llama-hub")
    assert (part / SUBFOLDER / "model.onnx").is_file()  # whole files are kept
    assert not (part / SUBFOLDER / "model.onnx.data").exists()
    hub.drop.clear()
    before = len(hub.gets(f"{SUBFOLDER}/model.onnx"))
    _same_as_tiny(pull(_entry()))
    assert len(hub.gets(f"{SUBFOLDER}/model.onnx")) == before  # not fetched again
    assert not part.exists()


def test_hash_mismatch_is_refused(hub):
    from helios_desktop.engines.hub_pull import PullError, partial_dir, pull

    data = bytearray((TINY_MODEL / "model.onnx.data").read_bytes())
    data[1000] ^= 0xFF  # the same size, one byte changed
    hub.serve[DATA] = bytes(data)
    with pytest.raises(PullError, match="SHA-256"):
        pull(_entry())
    assert not (_models() / "tiny-llama-hub").exists()
    assert not partial_dir(_models(), "tiny-llama-hub").exists()


def test_size_mismatch_is_refused(hub):
    from helios_desktop.engines.hub_pull import PullError, pull

    name = f"{SUBFOLDER}/tokenizer_config.json"
    real = (TINY_MODEL / "tokenizer_config.json").read_bytes()
    hub.advertise[name] = (len(real) + 10, hashlib.sha256(real).hexdigest())
    with pytest.raises(PullError, match="tokenizer_config.json.*the hub lists"):
        pull(_entry())
    assert not (_models() / "tiny-llama-hub").exists()


def test_full_disk_is_refused_before_the_download(hub, tmp_path):
    from helios_desktop.engines.hub_pull import PullError, pull

    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        with pytest.raises(PullError, match="not enough free disk"):
            pull(_entry(), mnt / "models")
        assert not any("/resolve/" in r[1] for r in hub.requests)  # nothing was fetched
        assert not (mnt / "models" / "tiny-llama-hub").exists()
    finally:
        subprocess.run(["umount", str(mnt)], check=True)


def test_cancel_from_another_thread_installs_nothing(hub):
    from helios_desktop.engines.hub_pull import PullCancelled, pull

    hub.throttle = 0.1
    cancel = threading.Event()
    threading.Thread(target=lambda: (hub.downloading.wait(30), cancel.set()), daemon=True).start()
    with pytest.raises(PullCancelled):
        pull(_entry(), progress=lambda p: None, cancel=cancel)
    assert not (_models() / "tiny-llama-hub").exists()


def test_ctrl_c_leaves_nothing_installed(hub):
    hub.throttle = 0.2  # the weights take seconds: the signal lands mid-file
    proc = subprocess.Popen([sys.executable, "-m", "helios_desktop", "models", "pull",
                             "tiny-llama-hub"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert hub.downloading.wait(60), "the pull never started downloading"
        while not hub.gets(DATA):  # the weights' GET has begun
            assert proc.poll() is None, proc.stderr.read()
            hub.downloading.clear()
            assert hub.downloading.wait(30)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "nothing was installed" in err
    assert not (_models() / "tiny-llama-hub").exists()
    assert "tiny-llama-hub" not in helios("models", "list", check=True).stdout
    hub.throttle = 0
    _same_as_tiny(Path(helios("models", "pull", "tiny-llama-hub", check=True).stdout.strip()))
