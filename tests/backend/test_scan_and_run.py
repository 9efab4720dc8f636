"""Discovery and a whole run over a tree of every kind of bad input."""

import asyncio
import os
import socket
from pathlib import Path

import pytest

from helios_desktop.scan.reader import Skip, read_document
from helios_desktop.records import FileTask, Reason
from helios_desktop.scan.scanner import AsyncFileScanner

from conftest import analyze_args, db_rows, helios

BAD_NAME = b"bad-\xff\xfe-name.txt"


def make_tree(root: Path, text_files: int = 200) -> dict[bytes, str | None]:
    """A tree with every bad input; returns expected {path: reason or None for analyzable}."""
    expected: dict[bytes, str | None] = {}
    rb = os.fsencode(root)

    def add(rel: bytes, reason):
        expected[rb + b"/" + rel] = reason

    for i in range(text_files):
        sub = root / f"dir{i % 7}"
        sub.mkdir(exist_ok=True)
        (sub / f"note{i}.txt").write_text(f"Note {i}: the meeting moved to room {i % 5}.\n")
        add(f"dir{i % 7}/note{i}.txt".encode(), None)
    deep = root
    for level in range(40):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    (deep / "deep.md").write_text("# Deep\nA file forty folders down.\n")
    add(os.fsencode(deep.relative_to(root)) + b"/deep.md", None)
    (root / "empty.txt").write_bytes(b"")
    add(b"empty.txt", "empty")
    (root / "binary.bin").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    add(b"binary.bin", "binary")  # no format Helios reads
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00" + bytes(range(256)) * 4)
    add(b"broken.png", "corrupt")  # a PNG signature, then nothing Pillow can parse
    (root / "big.log").write_bytes(b"x" * 5000)
    add(b"big.log", "too_large")
    (root / "latin1.txt").write_bytes("caf\xe9 cr\xe8me br\xfbl\xe9e ".encode("latin-1") * 3
                                      + b"mostly ascii text here " * 20)
    add(b"latin1.txt", None)  # decodable with replacement: analyzed, with a note
    (root / "garbage.txt").write_bytes(bytes(range(128, 256)) * 8)
    add(b"garbage.txt", "undecodable")
    with open(os.path.join(rb, BAD_NAME), "wb") as fh:
        fh.write(b"a file whose name is not UTF-8\n")
    add(BAD_NAME, None)
    os.mkfifo(root / "pipe")
    add(b"pipe", "not_regular")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock"))
    sock.close()
    add(b"sock", "not_regular")
    (root / "loop").symlink_to(root, target_is_directory=True)
    add(b"loop", "not_regular")  # symlinks are not followed by default
    (root / "dangling").symlink_to(root / "nowhere")
    add(b"dangling", "not_regular")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")  # excluded, counted only
    return expected


def test_run_records_every_file_once_with_its_reason(tmp_path, tiny_model):
    tree = tmp_path / "tree"
    tree.mkdir()
    expected = make_tree(tree)
    db = tmp_path / "h.db"
    result = helios(*analyze_args(tree, db, tiny_model, "--set", "max_file_size=4096"))
    assert result.returncode == 0, result.stderr
    assert "completed" in result.stdout
    rows = db_rows(db)
    paths = [bytes(r["path"]) for r in rows]
    assert len(paths) == len(set(paths)), "a file appears twice"
    assert set(paths) == set(expected)
    by_path = {bytes(r["path"]): r for r in rows}
    for path, reason in expected.items():
        row = by_path[path]
        if reason is None:
            assert row["status"] in ("done", "failed"), (path, row)
            if row["status"] == "failed":
                assert row["reason"] == "bad_output", row
        else:
            assert (row["status"], row["reason"]) == ("skipped", reason), (path, row)
    assert sum(r["status"] == "done" for r in rows) > 100
    assert not any(r["status"] in ("pending", "leased") for r in rows)
    assert "1 excluded by patterns" in result.stdout


def test_symlink_loop_detected_when_following(tmp_path):
    root = tmp_path / "t"
    (root / "a").mkdir(parents=True)
    (root / "a" / "f.txt").write_text("hello")
    (root / "a" / "up").symlink_to(root, target_is_directory=True)
    (root / "self").symlink_to(root / "self")  # ELOOP

    async def collect():
        scanner = AsyncFileScanner(str(root), include=["**"], exclude=[], max_file_size=1000,
                                   follow_symlinks=True)
        return [t async for t in scanner]

    tasks = {os.fsdecode(t.path).removeprefix(str(root) + "/"): t for t in asyncio.run(collect())}
    assert tasks["a/f.txt"].skip is None
    assert tasks["a/up"].skip == Reason.SYMLINK_LOOP
    assert tasks["self"].skip == Reason.SYMLINK_LOOP
    assert len(tasks) == 3


def test_scanner_applies_backpressure(tmp_path):
    """A consumer that stops early leaves the walk bounded, not finished."""
    root = tmp_path / "many"
    root.mkdir()
    for i in range(3000):
        (root / f"{i:05}.txt").write_text("x")

    async def take(n):
        scanner = AsyncFileScanner(str(root), include=["**"], exclude=[], max_file_size=10,
                                   queue_chunks=1)
        seen = 0
        async for _ in scanner:
            seen += 1
            if seen == n:
                await asyncio.sleep(0.2)  # give the walker time to run ahead if it could
                return scanner.stats.files
        return None

    walked = asyncio.run(take(10))
    # one chunk handed out, at most one queued and one being filled: never the whole tree
    assert walked is not None and walked <= 3 * 512 + 1 < 3000


def test_file_vanishing_or_changing_after_the_scan(tmp_path):
    gone = tmp_path / "gone.txt"
    gone.write_text("soon deleted")
    task = FileTask(os.fsencode(gone), 12, 0)
    gone.unlink()
    with pytest.raises(Skip) as info:
        read_document(task, 1000)
    assert info.value.reason == Reason.VANISHED

    swapped = tmp_path / "swapped"
    os.mkfifo(swapped)  # was a file at scan time, is a FIFO now: must not block
    with pytest.raises(Skip) as info:
        read_document(FileTask(os.fsencode(swapped), 3, 0), 1000)
    assert info.value.reason == Reason.NOT_REGULAR

    target = tmp_path / "target.txt"
    target.write_text("secret")
    link = tmp_path / "link.txt"
    link.symlink_to(target)  # replaced by a symlink after the scan: not followed
    with pytest.raises(Skip) as info:
        read_document(FileTask(os.fsencode(link), 6, 0), 1000)
    assert info.value.reason == Reason.NOT_REGULAR


def test_replaced_bytes_are_noted(tmp_path):
    f = tmp_path / "mixed.txt"
    f.write_bytes(b"price: 12 \xe2\x82\xac, caf\xe9 " + b"plain words " * 10)
    doc = read_document(FileTask(os.fsencode(f), f.stat().st_size, 0), 10_000)
    assert doc.replaced_bytes and "\ufffd" in doc.text and "\u20ac" in doc.text


def test_cancel_ends_a_consumer_waiting_for_the_next_chunk(tmp_path):
    """A stop request during the scan must not leave the supervisor waiting forever."""
    root = tmp_path / "t"
    root.mkdir()
    for d in range(40):
        sub = root / f"d{d}"
        sub.mkdir()
        for i in range(200):
            (sub / f"{i}.txt").write_text("x")

    async def consume():
        scanner = AsyncFileScanner(str(root), include=["**"], exclude=[], max_file_size=10,
                                   stat_files=True, queue_chunks=1)
        seen = 0

        async def stop_soon():
            await asyncio.sleep(0)
            scanner.cancel()

        stopper = asyncio.create_task(stop_soon())
        async for chunk in scanner.chunks():
            seen += len(chunk)
        await stopper
        return seen

    seen = asyncio.run(asyncio.wait_for(consume(), timeout=20))
    assert seen < 8000  # it stopped early, and it did stop
