"""Discovery: walk a folder off the event loop and yield one FileTask per entry.

``os.scandir`` runs in a thread that hands entries to the event loop in chunks
through a bounded queue, so a slow consumer slows the walk and memory stays flat
however many files there are. Nothing is opened here; the reader opens each file
with O_NOFOLLOW and checks it again with fstat. One bad entry never stops the walk.
Regular files are recognised from the directory entry's type, without a stat, unless
``stat_files`` asks for size and mtime (resume and re-runs need them).
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

from .globs import GlobFilter
from ..records import UNKNOWN, FileTask, Reason, ScanChunk

CHUNK = 512


@dataclass
class ScanStats:
    files: int = 0
    directories: int = 0
    excluded: int = 0
    bytes: int = 0


class _Stop(Exception):
    pass


class AsyncFileScanner:
    """Async iterator over every file under ``root`` (a str or bytes path)."""

    def __init__(self, root: str | bytes, *, include: list[str], exclude: list[str],
                 max_file_size: int, follow_symlinks: bool = False, stat_files: bool = True,
                 queue_chunks: int = 8):
        self.root = os.fsencode(os.path.abspath(root))
        self.filter = GlobFilter(include, exclude)
        self.max_file_size = max_file_size
        self.follow_symlinks = follow_symlinks
        # Without stat_files, regular files are found from d_type alone (as fast as
        # `find`); their size and mtime come from the reader. A re-scan of a folder that
        # has results must stat, to tell unchanged files from changed ones.
        self.stat_files = stat_files
        self._all_files = self.filter.takes_every_file
        self.stats = ScanStats()
        self._queue_chunks = queue_chunks
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop the walk; a consumer waiting in ``chunks()`` ends promptly."""
        self._cancelled.set()

    async def chunks(self) -> AsyncIterator[ScanChunk]:
        """The walk in chunks of up to CHUNK entries (what the supervisor consumes)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[ScanChunk | BaseException | None] = asyncio.Queue(self._queue_chunks)

        def put(item) -> None:
            if self._cancelled.is_set():
                raise _Stop
            asyncio.run_coroutine_threadsafe(queue.put(item), loop).result()

        def offer_end() -> None:  # runs on the loop: wake a consumer waiting on get()
            try:
                queue.put_nowait(None)
            except asyncio.QueueFull:
                pass  # the consumer is not waiting; it sees the flag after its next get()

        def wake_consumer() -> None:
            try:
                loop.call_soon_threadsafe(offer_end)
            except RuntimeError:
                pass  # the loop is closed: nobody is waiting any more

        def walk() -> None:
            try:
                for chunk in self._walk_chunks():
                    put(chunk)
                put(None)
            except _Stop:
                wake_consumer()
            except BaseException as exc:  # surfaced in the consumer, never lost
                try:
                    put(exc)
                except _Stop:
                    wake_consumer()

        thread = threading.Thread(target=walk, name="helios-scan", daemon=True)
        thread.start()
        try:
            while True:
                item = await queue.get()
                if item is None or self._cancelled.is_set():
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._cancelled.set()
            while not queue.empty():  # unblock a producer waiting on a full queue
                queue.get_nowait()

    async def __aiter__(self) -> AsyncIterator[FileTask]:
        async for chunk in self.chunks():
            for task in chunk:
                yield task

    # -- the walk (runs in the thread) ------------------------------------------------

    def _rel(self, path: bytes) -> str:
        rel = path[len(self.root) + 1:]
        return os.fsdecode(rel) if rel else ""

    def _walk_chunks(self):
        st = os.stat(self.root)
        stack: list[tuple[bytes, tuple[tuple[int, int], ...]]] = [
            (self.root, ((st.st_dev, st.st_ino),))]
        # The hot path: a regular file found from d_type alone, no stat, no glob match.
        fast = self._all_files and not self.stat_files
        chunk = ScanChunk()
        paths, tasks = chunk.paths, chunk.tasks
        while stack:
            if self._cancelled.is_set():
                return
            folder, ancestors = stack.pop()
            self.stats.directories += 1
            try:
                with os.scandir(folder) as it:
                    subfolders = []
                    for entry in it:
                        if fast and entry.is_file(follow_symlinks=False):
                            paths.append(entry.path)  # no object per file: see ScanChunk
                            self.stats.files += 1
                        else:
                            task, sub = self._entry(entry, ancestors)
                            if task is not None:
                                tasks.append(task)
                            if sub is not None:
                                subfolders.append(sub)
                        if len(paths) + len(tasks) >= CHUNK:
                            yield chunk
                            chunk = ScanChunk()
                            paths, tasks = chunk.paths, chunk.tasks
            except PermissionError as exc:
                tasks.append(FileTask(folder, 0, 0, Reason.PERMISSION,
                                      f"folder cannot be listed: {exc.strerror}"))
                continue
            except FileNotFoundError:
                tasks.append(FileTask(folder, 0, 0, Reason.VANISHED, "folder vanished during the scan"))
                continue
            except OSError as exc:
                tasks.append(FileTask(folder, 0, 0, Reason.READ_ERROR, f"folder cannot be listed: {exc}"))
                continue
            subfolders.sort()
            stack.extend(reversed(subfolders))
        if len(chunk):
            yield chunk

    def _entry(self, entry: os.DirEntry, ancestors):
        # d_type answers is_dir/is_file/is_symlink without a system call; lstat only where
        # it is needed (special files, symlinks, and size/mtime when stat_files is on).
        path = entry.path
        try:
            if entry.is_symlink():
                return self._symlink(entry, ancestors)
            if entry.is_dir(follow_symlinks=False):
                return self._folder(path, entry, ancestors)
            if entry.is_file(follow_symlinks=False):
                if not self._all_files and not self.filter.wants_file(self._rel(path)):
                    self.stats.excluded += 1
                    return None, None
                self.stats.files += 1
                if not self.stat_files:
                    return FileTask(path, UNKNOWN, UNKNOWN), None
                return self._regular(path, entry.stat(follow_symlinks=False)), None
            st = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            return FileTask(path, 0, 0, Reason.VANISHED, "vanished during the scan"), None
        except OSError as exc:
            return FileTask(path, 0, 0, Reason.PERMISSION, exc.strerror or str(exc)), None
        if not self._all_files and not self.filter.wants_file(self._rel(path)):
            self.stats.excluded += 1
            return None, None
        self.stats.files += 1
        return FileTask(path, 0, st.st_mtime_ns, Reason.NOT_REGULAR, _special_kind(st.st_mode)), None

    def _regular(self, path: bytes, st: os.stat_result) -> FileTask:
        self.stats.bytes += st.st_size
        if st.st_size > self.max_file_size:
            return FileTask(path, st.st_size, st.st_mtime_ns, Reason.TOO_LARGE,
                            f"{st.st_size} bytes > max_file_size {self.max_file_size}")
        return FileTask(path, st.st_size, st.st_mtime_ns)

    def _folder(self, path: bytes, entry: os.DirEntry | None, ancestors, st=None):
        if self.filter.prunes_dir(self._rel(path)):
            self.stats.excluded += 1
            return None, None
        if not self.follow_symlinks:
            return None, (path, ancestors)  # no symlinks followed, so no loops possible
        st = st or entry.stat(follow_symlinks=False)
        key = (st.st_dev, st.st_ino)
        if key in ancestors:
            return FileTask(path, 0, st.st_mtime_ns, Reason.SYMLINK_LOOP,
                            "symbolic link to a folder that contains it"), None
        return None, (path, ancestors + (key,))

    def _symlink(self, entry: os.DirEntry, ancestors):
        path = entry.path
        if not self.follow_symlinks:
            if not self._all_files and not self.filter.wants_file(self._rel(path)):
                self.stats.excluded += 1
                return None, None
            self.stats.files += 1
            return FileTask(path, 0, 0, Reason.NOT_REGULAR,
                            "symbolic link (follow_symlinks is off)"), None
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return FileTask(path, 0, 0, Reason.VANISHED, "dangling symbolic link"), None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return FileTask(path, 0, 0, Reason.SYMLINK_LOOP, "symbolic link loop"), None
            return FileTask(path, 0, 0, Reason.PERMISSION, exc.strerror or str(exc)), None
        if stat.S_ISDIR(st.st_mode):
            return self._folder(path, None, ancestors, st)
        if not self._all_files and not self.filter.wants_file(self._rel(path)):
            self.stats.excluded += 1
            return None, None
        self.stats.files += 1
        if stat.S_ISREG(st.st_mode):
            return self._regular(path, st), None
        return FileTask(path, 0, st.st_mtime_ns, Reason.NOT_REGULAR, _special_kind(st.st_mode)), None


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"
