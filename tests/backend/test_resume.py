"""Kill the backend with SIGKILL mid-run; the next run finishes the job exactly once."""

import os
import signal
import sqlite3
import subprocess
import sys
import time

from conftest import REPO, analyze_args, db_rows, helios


def _corpus(root, n=400):
    root.mkdir()
    for i in range(n):
        (root / f"f{i:04}.txt").write_text(f"File {i}. Quarterly numbers for unit {i % 13}.\n" * 3)


def _final(db):
    return {bytes(r["path"]): r["status"] for r in db_rows(db) if r["run_id"] == 1}


def test_sigkill_then_resume_matches_an_uninterrupted_run(tmp_path, tiny_model):
    folder = tmp_path / "corpus"
    _corpus(folder)
    reference_db = tmp_path / "ref.db"
    helios(*analyze_args(folder, reference_db, tiny_model), check=True)

    db = tmp_path / "killed.db"
    proc = subprocess.Popen([sys.executable, "-m", "helios_desktop",
                             *map(str, analyze_args(folder, db, tiny_model, "--events", "jsonl",
                                                    "--batch-size", "4"))],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    deadline = time.monotonic() + 120
    killed_mid_run = False
    for line in proc.stdout:
        if '"event": "progress"' in line and '"done": 0,' not in line:
            proc.send_signal(signal.SIGKILL)
            killed_mid_run = True
            break
        assert time.monotonic() < deadline
    proc.wait()
    proc.stdout.close()
    assert killed_mid_run and proc.returncode == -signal.SIGKILL

    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    statuses = dict(conn.execute("SELECT status, count(*) FROM files GROUP BY status").fetchall())
    conn.close()
    assert statuses.get("pending", 0) + statuses.get("leased", 0) > 0, "the kill came too late"
    first_done = {p for p, s in _final(db).items() if s == "done"}

    resumed_at = time.time()
    result = helios(*analyze_args(folder, db, tiny_model), check=True)
    assert "(resumed)" in result.stdout
    final = _final(db)
    reference = _final(reference_db)
    assert final == reference  # same files, same outcomes (the tiny model decodes greedily)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    # files finished before the kill were not analyzed again
    updated = {bytes(p) for (p,) in conn.execute(
        "SELECT path FROM files WHERE updated_at >= ?", (resumed_at,))}
    conn.close()
    assert first_done and not (first_done & updated)


def test_rerun_reuses_unchanged_and_reanalyzes_changed(tmp_path, tiny_model):
    folder = tmp_path / "c"
    _corpus(folder, n=30)
    db = tmp_path / "h.db"
    helios(*analyze_args(folder, db, tiny_model), check=True)
    changed = folder / "f0003.txt"
    changed.write_text("Completely new content for this file, longer than before.\n")
    os.utime(changed, ns=(time.time_ns(), time.time_ns() + 10**9))
    result = helios(*analyze_args(folder, db, tiny_model), check=True)
    assert "run 2 completed" in result.stdout
    conn = sqlite3.connect(db)
    reused = conn.execute("SELECT reused FROM runs WHERE id = 2").fetchone()[0]
    rows = dict(conn.execute("SELECT path, prompt_tokens FROM files WHERE run_id = 2").fetchall())
    conn.close()
    done_in_run1 = sum(1 for r in db_rows(db) if r["run_id"] == 1 and r["status"] == "done")
    assert reused == done_in_run1 - (1 if _final(db)[bytes(os.fsencode(changed))] == "done" else 0)
    assert len(rows) == 30
