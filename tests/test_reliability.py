"""Defects found under chaos and bad input (issue 17): each test failed before its fix."""

import codecs
import json
import urllib.error
import urllib.request

import pytest

from helios_desktop.backend.metrics import Metrics, MetricsServer
from helios_desktop.config import ConfigError, load_settings
from helios_desktop.records import FileTask, Reason
from helios_desktop.scan.globs import GlobFilter
from helios_desktop.scan.reader import Skip, read_document

from conftest import analyze_args, helios


# -- bad input: globs, byte order marks, unknown metrics paths ---------------------------------

def test_an_invalid_glob_is_refused_naming_the_pattern(tmp_path, tiny_model):
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.txt").write_text("hello")
    result = helios(*analyze_args(folder, tmp_path / "h.db", tiny_model, "--set", "include=[a["))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'[a['" in lines[0] and "include" in lines[0], result.stderr
    assert not (tmp_path / "h.db").exists()
    with pytest.raises(ConfigError, match=r"'src/\[!x'"):
        load_settings(None, {"exclude": ["src/[!x"]})


def test_glob_sets_match_one_character_of_a_set():
    f = GlobFilter(["**/*.[ch]", "notes[0-9].txt", "[[]x].md"], ["**/tmp[!a-z]/**"])
    assert f.wants_file("src/main.c") and f.wants_file("inc/x.h")
    assert not f.wants_file("src/main.cc")
    assert f.wants_file("notes7.txt") and not f.wants_file("notesA.txt")
    assert f.wants_file("[x].md")
    assert f.prunes_dir("a/tmp1") and not f.prunes_dir("a/tmpz")
    assert not GlobFilter(["a[/]b"], []).wants_file("a/b")  # a set never matches a separator


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-8"])
def test_text_with_a_byte_order_mark_is_decoded(tmp_path, encoding):
    text = "Invoice 42 for Zoë Müller: 3 × 5 € — paid.\n" * 20
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE,
           "utf-32-le": codecs.BOM_UTF32_LE, "utf-32-be": codecs.BOM_UTF32_BE,
           "utf-8": codecs.BOM_UTF8}[encoding]
    path = tmp_path / "invoice.txt"
    path.write_bytes(bom + text.encode(encoding))
    size = path.stat().st_size
    doc = read_document(FileTask(bytes(path), size, 0), max_file_size=1 << 20)
    assert doc.text == text and not doc.replaced_bytes
    # cut in the middle of a character: the part read is still text
    doc = read_document(FileTask(bytes(path), size, 0), max_file_size=1 << 20, max_chars=33)
    assert doc.text == text[:33]


def test_binary_that_starts_like_a_byte_order_mark_is_still_binary(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(codecs.BOM_UTF16_LE + (bytes(8) + bytes(range(256))) * 4)
    with pytest.raises(Skip) as info:
        read_document(FileTask(bytes(path), path.stat().st_size, 0), max_file_size=1 << 20)
    assert info.value.reason == Reason.BINARY


def test_metrics_port_answers_404_for_unknown_paths():
    server = MetricsServer(Metrics(), lambda: {"status": "running"})
    try:
        base = f"http://127.0.0.1:{server.port}"
        for path in ("/", "/nope", "/metrics/extra", "/healthzz"):
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(base + path, timeout=5)
            assert info.value.code == 404, path
        with urllib.request.urlopen(base + "/metrics", timeout=5) as resp:
            assert resp.status == 200 and b"helios_workers_alive" in resp.read()
        with urllib.request.urlopen(base + "/healthz", timeout=5) as resp:
            assert json.loads(resp.read()) == {"status": "running"}
    finally:
        server.close()
