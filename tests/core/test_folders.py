"""The folder check and progress text that the command line and the window share."""

import os

import pytest

from helios_desktop.folders import FolderError, Progress, check_folder


def test_check_folder(tmp_path):
    assert check_folder(tmp_path) == tmp_path.resolve()
    with pytest.raises(FolderError, match="does not exist"):
        check_folder(tmp_path / "nope")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(FolderError, match=r"is not a folder \(it is a file\)"):
        check_folder(tmp_path / "f.txt")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0)
    try:
        if not os.access(locked, os.R_OK):  # root reads everything
            with pytest.raises(FolderError, match="permission denied"):
                check_folder(locked)
    finally:
        locked.chmod(0o700)


def test_progress_and_eta():
    p = Progress.from_event({"done": 10, "failed": 1, "skipped": 4, "pending": 185,
                             "files_per_second": 2.0, "tokens_per_second": 80.0})
    assert (p.finished, p.total, p.eta_seconds) == (15, 200, 92)
    assert p.eta_text() == "ETA 1m 32s"
    assert Progress.from_event({"pending": 5, "scanning": True}).eta_text() == "scanning"
    assert Progress.from_event({"done": 5, "files_per_second": 3.0}).eta_text() == ""
    assert Progress.from_event({"pending": 5}).eta_seconds is None
