"""Model servers already running on this machine: the loopback default ports probed at once,
each answering server's model list.

Only a listing is asked for (GET /v1/models, or Ollama's GET /api/tags): no prompt, no file
content and no key goes to a server until a person chooses it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass

# The default port of each server (their documentation), and the listing it answers first.
DEFAULT_PORTS: dict[int, tuple[str, str]] = {
    11434: ("Ollama", "/api/tags"),
    1234: ("LM Studio", "/v1/models"),
    8080: ("llama-server", "/v1/models"),
    8000: ("vLLM", "/v1/models"),
    4891: ("GPT4All", "/v1/models"),
    1337: ("Jan", "/v1/models"),
}
HOST = "127.0.0.1"
DEADLINE_S = 1.5  # for every port together: a listing on loopback answers in milliseconds


@dataclass(frozen=True)
class LocalServer:
    name: str  # the server usually on this port ("server" on another port)
    port: int
    base_url: str  # what Helios's openai engine takes (endpoints: [base_url])
    models: tuple[str, ...]
    listing: str  # the path that answered

    def as_json(self) -> dict:
        d = asdict(self)
        d["models"] = list(self.models)
        return d


def _models_from(path: str, payload) -> tuple[str, ...] | None:
    """Model names from an OpenAI /v1/models or an Ollama /api/tags answer; None if neither."""
    if not isinstance(payload, dict):
        return None
    if path == "/api/tags" and isinstance(payload.get("models"), list):
        return tuple(str(m.get("name") or m.get("model")) for m in payload["models"]
                     if isinstance(m, dict) and (m.get("name") or m.get("model")))
    if isinstance(payload.get("data"), list):
        return tuple(str(m["id"]) for m in payload["data"] if isinstance(m, dict) and "id" in m)
    return None


async def _probe_one(session, port: int, name: str, paths: list[str],
                     end: float) -> LocalServer | None:
    import aiohttp

    loop = asyncio.get_running_loop()
    for path in paths:
        left = end - loop.time()
        if left <= 0:
            return None
        # Each request gets only the time left: a cancelled aiohttp request can surface as a
        # timeout and be swallowed, so the deadline is kept by the requests themselves.
        timeout = aiohttp.ClientTimeout(total=left)
        try:
            async with session.get(f"http://{HOST}:{port}{path}", allow_redirects=False,
                                   timeout=timeout) as r:
                if r.status != 200:
                    continue
                payload = await r.json(content_type=None)
        except aiohttp.ClientConnectorError:
            return None  # nothing listens on this port
        except asyncio.TimeoutError:
            return None  # a listener that does not answer in time is no usable server
        except (aiohttp.ClientError, ValueError, OSError):
            continue  # an answer that is not a JSON listing: try the other listing
        models = _models_from(path, payload)
        if models is not None:
            return LocalServer(name, port, f"http://{HOST}:{port}/v1", models, path)
    return None


async def probe_async(ports: dict[int, str] | list[int] | None = None,
                      deadline: float = DEADLINE_S) -> list[LocalServer]:
    import aiohttp

    if ports is None:
        plan = {p: (n, [first] + ([] if first == "/v1/models" else ["/v1/models"]))
                for p, (n, first) in DEFAULT_PORTS.items()}
    else:
        named = ports if isinstance(ports, dict) else {p: None for p in ports}
        plan = {p: (n or DEFAULT_PORTS.get(p, ("server", ""))[0], ["/v1/models", "/api/tags"])
                for p, n in named.items()}
    end = asyncio.get_running_loop().time() + deadline
    # trust_env=False: a proxy from the environment must not see loopback probes
    async with aiohttp.ClientSession(trust_env=False) as session:
        tasks = [asyncio.ensure_future(_probe_one(session, p, n, paths, end))
                 for p, (n, paths) in plan.items()]
        done, pending = await asyncio.wait(tasks, timeout=deadline + 0.1)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    found = [t.result() for t in done if not t.cancelled() and t.exception() is None]
    return sorted((s for s in found if s is not None), key=lambda s: s.port)


def probe_servers(ports: dict[int, str] | list[int] | None = None,
                  deadline: float = DEADLINE_S) -> list[LocalServer]:
    """The model servers answering on loopback: the default ports, or ``ports``. Returns
    within about ``deadline`` seconds whatever the ports do. Call it off the GUI thread."""
    return asyncio.run(probe_async(ports, deadline))


def timed_probe(ports=None, deadline: float = DEADLINE_S) -> tuple[list[LocalServer], float]:
    started = time.perf_counter()
    found = probe_servers(ports, deadline)
    return found, time.perf_counter() - started
