"""Binary files are skipped at once, not after the workers load the model (issue 25 item 6)."""

import json
import os
import sqlite3

from helios_desktop.extract.base import ExtractOptions
from helios_desktop.extract.read import read_file, skip_by_head
from helios_desktop.records import FileTask, Reason
from helios_desktop.scan.reader import Skip

from conftest import analyze_args, helios

LOAD_SECONDS = 4.0  # the workers' model load, made slow (test hook hold_gil_at_load)


def _folder(root, text_files=24):
    root.mkdir()
    binaries = []
    for i in range(text_files):
        (root / f"note{i:02d}.txt").write_text(f"Note {i}: the van is booked for depot {i % 5}.\n")
        if i % 6 == 5:  # among the text files, in the ledger's order too
            path = root / f"blob{i:02d}.dat"
            path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
            binaries.append(path)
    return binaries


def test_binary_files_are_final_before_the_model_has_loaded(tmp_path, tiny_model):
    folder = tmp_path / "docs"
    binaries = _folder(folder)
    db = tmp_path / "h.db"
    env = {**os.environ, "HELIOS_TEST_HOOKS": json.dumps({"hold_gil_at_load": LOAD_SECONDS})}
    result = helios(*analyze_args(folder, db, tiny_model), env=env)
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    started = conn.execute("SELECT started_at FROM runs").fetchone()[0]
    rows = conn.execute("SELECT path, status, reason, updated_at FROM files").fetchall()
    conn.close()
    skipped = {os.fsdecode(bytes(p)): t for p, s, r, t in rows if s == "skipped"}
    assert set(skipped) == {str(p) for p in binaries}
    assert all(r == "binary" for p, s, r, t in rows if s == "skipped")
    done = [t for p, s, r, t in rows if s == "done"]
    assert len(done) == 24
    # Every binary row was final before the first model result, and sooner than the
    # workers could have loaded the model.
    assert max(skipped.values()) < min(done)
    assert max(skipped.values()) - started < LOAD_SECONDS


def test_skip_by_head_agrees_with_the_reader(tmp_path):
    """Where the head decides, it decides as read_file does; where it cannot, it leaves
    the file to the worker (never a skip the whole read would not make)."""
    cases = {
        "elf.bin": b"\x7fELF" + b"\x00" * 64,
        "empty.txt": b"",
        "utf16.txt": "\ufeffplain text in UTF-16\n".encode("utf-16-le") * 50,
        "late-nul.txt": b"a" * 9000 + b"\x00",   # NUL after the first 8 KiB: text
        "notes.txt": b"Minutes of the meeting.\n",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    options = ExtractOptions()
    verdicts = {}
    for name in cases:
        task = FileTask(os.fsencode(tmp_path / name), len(cases[name]), 0)
        head = skip_by_head(task, 1 << 20, options)
        try:
            read_file(task, 1 << 20, options)
            whole = None
        except Skip as skip:
            whole = skip.reason
        if head is not None:
            assert head.reason == whole, name
        verdicts[name] = head.reason if head else None
    assert verdicts == {"elf.bin": Reason.BINARY, "empty.txt": Reason.EMPTY, "utf16.txt": None,
                        "late-nul.txt": None, "notes.txt": None}
