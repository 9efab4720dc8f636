"""Downloading a catalog entry from the Hugging Face hub: one subfolder at a pinned commit,
checked against the hub's sizes and hashes, moved into place only when whole.

The files go to ``MODELS/.NAME.partial`` (beside the destination, so the final move is one
rename on one file system); huggingface_hub writes each file under a unique temporary name
and resumes a dropped connection with a Range request. A pull stopped part-way (Ctrl-C,
Cancel, a network failure) leaves only that hidden folder: nothing is installed, the next
pull of the same entry keeps the files that arrived whole, and ``helios models rm NAME``
deletes it. HF_ENDPOINT (a mirror, or the tests' stand-in hub) is read on every pull.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..records import human_bytes
from .hub_catalog import CatalogEntry
from .model_folder import GENAI_CONFIG, MARKER

MARKER_SOURCE = "huggingface-hub"


class PullError(RuntimeError):
    """A pull that cannot go on; the message says why and what to do."""


class PullCancelled(PullError):
    """Stopped by the person (Cancel, Ctrl-C); nothing was installed."""


class LicenceNotAccepted(PullError):
    """The entry's licence must be accepted before its download starts."""


@dataclass(frozen=True)
class RemoteFile:
    path: str  # in the repository, subfolder included
    size: int
    sha256: str | None  # LFS files: the content's SHA-256
    git_sha1: str  # every file: git's blob id (what the hub checks for small files)


@dataclass(frozen=True)
class PullProgress:
    done_bytes: int
    total_bytes: int
    bytes_per_second: float
    eta_seconds: float | None
    file: str  # the file being downloaded (name within the folder)

    def text(self) -> str:
        eta = "--" if self.eta_seconds is None else _duration(self.eta_seconds)
        return (f"{human_bytes(self.done_bytes)} / {human_bytes(self.total_bytes)}  "
                f"{human_bytes(self.bytes_per_second)}/s  ETA {eta}  {self.file}")




def _duration(s: float) -> str:
    s = int(s + 0.5)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def _endpoint() -> str | None:
    return os.environ.get("HF_ENDPOINT") or None


def partial_dir(root: Path, name: str) -> Path:
    return Path(root) / f".{name}.partial"


def remote_files(entry: CatalogEntry) -> list[RemoteFile]:
    """The files of the entry's subfolder at its commit, as the hub lists them."""
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile

    api = HfApi(endpoint=_endpoint())
    try:
        info = api.model_info(entry.repo, revision=entry.revision)
        listed = [f for f in api.list_repo_tree(entry.repo, path_in_repo=entry.subfolder,
                                                 revision=entry.revision, recursive=True)
                  if isinstance(f, RepoFile)]
    except Exception as exc:
        raise PullError(f"the hub ({api.endpoint}) did not list {entry.repo} at "
                        f"{entry.revision[:12]}: {_reason(exc)}") from None
    if info.sha and info.sha != entry.revision:
        raise PullError(f"the hub answered {entry.repo} with commit {info.sha}, not the pinned "
                        f"{entry.revision}; refusing a download the catalog did not check")
    files = [RemoteFile(f.path, int(f.lfs.size if f.lfs else f.size),
                        f.lfs.sha256 if f.lfs else None, f.blob_id) for f in listed
             if f.path.startswith(entry.subfolder + "/")]
    if not files:
        raise PullError(f"the hub lists no files under {entry.subfolder}/ in {entry.repo} at "
                        f"{entry.revision[:12]}")
    return files


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


def licence_text(entry: CatalogEntry) -> str:
    """The licence file at the repository's root, at the pinned commit (shown before a pull)."""
    if not entry.licence_file:
        return ""
    from huggingface_hub import hf_hub_download

    with tempfile.TemporaryDirectory(prefix="helios-licence-") as tmp:
        try:
            path = hf_hub_download(entry.repo, entry.licence_file, revision=entry.revision,
                                   local_dir=tmp, endpoint=_endpoint())
        except Exception as exc:
            raise PullError(f"cannot fetch {entry.licence_file} of {entry.repo}: "
                            f"{_reason(exc)}") from None
        return Path(path).read_text("utf-8", errors="replace")


class _Tracker:
    """Bytes received across files, throttled calls to ``progress``, and the cancel check."""

    def __init__(self, total: int, progress, cancel: threading.Event | None):
        self.total, self.progress, self.cancel = total, progress, cancel
        self.done = 0  # bytes of files already whole
        self.current = 0  # bytes of the file in flight
        self.file = ""
        self.started = time.monotonic()
        self.received = 0  # bytes over the network in this pull (for the speed)
        self.last_call = 0.0

    def bar_class(self):
        tracker = self

        class Bar:  # huggingface_hub's tqdm_class protocol: a context manager with update()
            def __init__(self, total=None, initial=0, **_kw):
                tracker.current = initial or 0

            def update(self, n=1):
                tracker.add(n)

            def update_transfer(self, n):  # counted in update()
                pass

            def close(self):
                pass

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

        return Bar

    def add(self, n: int) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise PullCancelled("cancelled")
        self.current += n
        self.received += n
        self.report()

    def file_done(self, size: int) -> None:
        self.done += size
        self.current = 0
        self.report(force=True)

    def report(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress is None or (not force and now - self.last_call < 0.2):
            return
        self.last_call = now
        elapsed = max(now - self.started, 1e-6)
        speed = self.received / elapsed
        done = min(self.done + self.current, self.total)
        eta = (self.total - done) / speed if speed > 0 else None
        self.progress(PullProgress(done, self.total, speed, eta, self.file))


def _git_blob_sha1(path: Path, size: int) -> str:
    h = hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_file(path: Path, remote: RemoteFile) -> str | None:
    """Why ``path`` is not the hub's ``remote`` (size, then hash), or None when it is."""
    size = path.stat().st_size
    if size != remote.size:
        return f"{remote.path}: {size} bytes arrived, the hub lists {remote.size}"
    if remote.sha256:
        got = _sha256(path)
        if got != remote.sha256:
            return f"{remote.path}: SHA-256 {got[:16]}... differs from the hub's {remote.sha256[:16]}..."
    elif _git_blob_sha1(path, size) != remote.git_sha1:
        return f"{remote.path}: its git blob id differs from the hub's {remote.git_sha1[:12]}"
    return None


def _check_disk(part: Path, files: list[RemoteFile]) -> None:
    present = sum(f.size for f in files if (part / f.path).is_file())
    need = sum(f.size for f in files) - present
    need += need // 20  # 5% for the file system's own blocks and the metadata files
    free = shutil.disk_usage(part).free
    if free < need:
        raise PullError(f"not enough free disk in {part.parent}: the download needs "
                        f"{human_bytes(need)}, {human_bytes(free)} are free; free some space there (models go to "
                        "the per-user data folder, XDG_DATA_HOME on Linux: docs/MODELS.md)")


def _check_folder(folder: Path, entry: CatalogEntry) -> None:
    try:
        config = json.loads((folder / GENAI_CONFIG).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise PullError(f"{entry.name}: {GENAI_CONFIG} is missing or unreadable ({exc})") from None
    named = config.get("model", {}).get("decoder", {}).get("filename")
    if named != entry.onnx_file:
        raise PullError(f"{entry.name}: {GENAI_CONFIG} names {named!r}, the catalog "
                        f"{entry.onnx_file!r}; the catalog entry is out of date")
    if not (folder / named).is_file():
        raise PullError(f"{entry.name}: {GENAI_CONFIG} names {named}, which did not arrive")


def pull(entry: CatalogEntry, root: Path | None = None, *, accept_licence: bool = False,
         progress: Callable[[PullProgress], None] | None = None,
         cancel: threading.Event | None = None) -> Path:
    """Download ``entry`` into ``root/NAME`` (default: the per-user models folder).

    ``progress`` is called from this thread at most 5 times a second; ``cancel`` set from
    another thread stops the download at its next chunk (PullCancelled). Raises
    LicenceNotAccepted when the entry has a licence to accept and ``accept_licence`` is
    false, PullError with the reason otherwise; on any failure nothing is installed."""
    from huggingface_hub import hf_hub_download

    from ..paths import models_dir

    root = Path(root or models_dir())
    dest = root / entry.name
    if (dest / GENAI_CONFIG).exists():
        raise PullError(f"{entry.name} is already installed in {dest}; `helios models rm "
                        f"{entry.name}` first to download it again")
    if dest.exists():
        raise PullError(f"{dest} exists and is not a model folder; move or delete it first")
    if entry.needs_acceptance and not accept_licence:
        raise LicenceNotAccepted(f"{entry.name} is under the {entry.licence}: it must be shown "
                                 "and accepted before the download (helios models pull asks; "
                                 "--yes accepts it)")
    files = remote_files(entry)
    part = partial_dir(root, entry.name)
    part.mkdir(parents=True, exist_ok=True)
    _check_disk(part, files)
    tracker = _Tracker(sum(f.size for f in files), progress, cancel)
    for f in files:
        if cancel is not None and cancel.is_set():
            raise PullCancelled(f"{entry.name}: cancelled; nothing was installed")
        tracker.file = f.path[len(entry.subfolder) + 1:]
        try:
            hf_hub_download(entry.repo, f.path, revision=entry.revision, local_dir=part,
                            endpoint=_endpoint(), tqdm_class=tracker.bar_class())
        except PullCancelled:
            raise PullCancelled(f"{entry.name}: cancelled; nothing was installed "
                                f"(files that arrived whole are kept in {part} for the next "
                                "pull)") from None
        except Exception as exc:
            raise PullError(f"{entry.name}: downloading {f.path} failed: {_reason(exc)}; "
                            f"nothing was installed, and `helios models pull {entry.name}` "
                            "goes on from the files that arrived whole") from None
        tracker.file_done(f.size)
    problems = [p for f in files if (p := check_file(part / f.path, f))]
    if problems:
        shutil.rmtree(part, ignore_errors=True)  # a file the hub did not send: start afresh
        raise PullError(f"{entry.name}: refused, the download does not match the hub's "
                        f"metadata: {'; '.join(problems)}; nothing was installed")
    folder = part / entry.subfolder
    _check_folder(folder, entry)
    marker = {"source": MARKER_SOURCE, "catalog_name": entry.name, "repo": entry.repo,
              "subfolder": entry.subfolder, "revision": entry.revision,
              "licence": entry.licence, "licence_accepted": bool(entry.needs_acceptance),
              "pulled_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if entry.model_fields is not None:
        marker["model_fields"] = list(entry.model_fields)
    (folder / MARKER).write_text(json.dumps(marker, indent=2) + "\n", "utf-8")
    os.rename(folder, dest)  # one rename: the folder appears whole or not at all
    shutil.rmtree(part, ignore_errors=True)
    return dest


def remove(name: str, root: Path | None = None) -> list[Path]:
    """Delete the installed folder ``root/name`` and any unfinished pull of it; the paths
    removed. ``name`` is a folder name, never a path."""
    from ..paths import models_dir

    if not name or "/" in name or os.sep in name or name in (".", ".."):
        raise PullError(f"{name!r} is not a model name (helios models list shows them)")
    root = Path(root or models_dir())
    removed = []
    for path in (root / name, partial_dir(root, name)):
        if path.exists():
            shutil.rmtree(path)
            removed.append(path)
    return removed
