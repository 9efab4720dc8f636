"""A stand-in for the Hugging Face hub on 127.0.0.1, in the hub's HTTP shape, for the real
huggingface_hub client (pointed at it with HF_ENDPOINT).

It serves one repository whose one commit holds a folder (the committed tiny model) under a
subfolder, plus a LICENSE at the root:
  GET  /api/models/REPO/revision/REV         the commit (sha) and its files
  GET  /api/models/REPO/tree/REV/PATH         the files under PATH (path, size, oid, lfs)
  HEAD /REPO/resolve/REV/PATH, GET likewise   X-Repo-Commit, ETag / X-Linked-Etag,
                                              Content-Length / X-Linked-Size; Range answered
Faults a test sets on the instance: ``drop`` (path -> bytes after which the next GET of
that file is cut, once per entry in the list), ``throttle`` (seconds between 64 KiB chunks),
``advertise`` (path -> (size, sha256) listed in place of the truth), ``serve`` (path ->
bytes sent in place of the file). ``requests`` records (method, path, Range) of each request.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO_ID = "helios-test/tiny-llama-onnx"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SUBFOLDER = "cpu_and_mobile/tiny-int4"
LICENCE = "TINY TEST MODEL LICENCE\n\nThe stand-in hub's licence text, shown before a pull.\n"
LFS_FROM = 10_000  # files this big are LFS files, as the hub stores weights


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubServer:
    def __init__(self, model_folder: Path):
        self.files: dict[str, bytes] = {f"{SUBFOLDER}/{p.name}": p.read_bytes()
                                        for p in sorted(Path(model_folder).iterdir())
                                        if p.is_file()}
        self.files["LICENSE"] = LICENCE.encode()
        self.drop: dict[str, list[int]] = {}
        self.throttle = 0.0
        self.advertise: dict[str, tuple[int, str]] = {}
        self.serve: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.downloading = threading.Event()  # set when a file body starts going out
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> "HubServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def gets(self, path_end: str) -> list[tuple[str, str, str | None]]:
        return [r for r in self.requests if r[0] == "GET" and r[1].endswith(path_end)]

    def entry(self, name: str = "tiny-llama-hub", **extra) -> dict:
        """A catalog entry (as YAML data) for this repository."""
        size = sum(len(b) for p, b in self.files.items() if p.startswith(SUBFOLDER))
        return {"name": name, "title": "tiny test model", "repo": REPO_ID,
                "subfolder": SUBFOLDER, "revision": COMMIT, "onnx_file": "model.onnx",
                "size_bytes": size, "runtime": "cpu", "licence": "test licence",
                "model_fields": "all", **extra}

    def _listing(self, path: str) -> dict:
        data = self.files[path]
        size, sha = self.advertise.get(path, (len(data), hashlib.sha256(data).hexdigest()))
        item = {"type": "file", "path": path, "size": size, "oid": git_sha1(data)}
        if len(data) >= LFS_FROM:
            item["lfs"] = {"oid": sha, "size": size, "pointerSize": 134}
        elif path in self.advertise:
            item["oid"] = git_sha1(b"x" * size)  # a small file the hub lists otherwise
        return item

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _json(self, payload, status=200):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_HEAD(self):
                self._route(head=True)

            def do_GET(self):
                self._route(head=False)

            def _route(self, head: bool):
                path = unquote(urlsplit(self.path).path)
                with hub.lock:
                    hub.requests.append((self.command, path, self.headers.get("Range")))
                api = f"/api/models/{REPO_ID}/"
                resolve = f"/{REPO_ID}/resolve/{COMMIT}/"
                if path == f"{api}revision/{COMMIT}":
                    return self._json({"id": REPO_ID, "sha": COMMIT, "private": False,
                                       "siblings": [{"rfilename": p} for p in hub.files]})
                if path.startswith(f"{api}tree/{COMMIT}"):
                    under = path[len(f"{api}tree/{COMMIT}"):].strip("/")
                    return self._json([hub._listing(p) for p in hub.files
                                       if not under or p.startswith(under + "/")])
                if path.startswith(resolve) and path[len(resolve):] in hub.files:
                    return self._file(path[len(resolve):], head)
                self._json({"error": f"{path} not found"}, 404)

            def _file(self, name: str, head: bool):
                data = hub.files[name]
                listed = hub._listing(name)
                body = hub.serve.get(name, data)
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes=") and rng.endswith("-"):
                    start = int(rng[6:-1])
                self.send_response(206 if start and not head else 200)
                self.send_header("X-Repo-Commit", COMMIT)
                if "lfs" in listed:
                    self.send_header("X-Linked-Etag", f'"{listed["lfs"]["oid"]}"')
                    self.send_header("X-Linked-Size", str(listed["size"]))
                self.send_header("ETag", f'"{git_sha1(data)}"')
                if start and not head:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - (0 if head else start)))
                self.end_headers()
                if head:
                    return
                hub.downloading.set()
                cut = None
                with hub.lock:
                    if hub.drop.get(name):
                        cut = hub.drop[name].pop(0)
                sent = start
                while sent < len(body):
                    chunk = body[sent:sent + 65536]
                    if cut is not None and sent + len(chunk) > cut:
                        self.wfile.write(body[sent:cut])
                        self.wfile.flush()
                        self.close_connection = True  # cut mid-file, as a dropped link does
                        return
                    self.wfile.write(chunk)
                    sent += len(chunk)
                    if hub.throttle:
                        time.sleep(hub.throttle)

        return Handler
