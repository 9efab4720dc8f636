"""A file's text cut to fit a server's tokens: its own tokenizer when it has one, else an estimate."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from .errors import Failure
from .scheduler import Endpoint

log = logging.getLogger("helios.endpoints")

ASCII_CHARS_PER_TOKEN = 2.5  # the estimate when a server offers no tokenizer (conservative:
#                              English prose runs about 4 a token, code 3, digits and JSON less)

# llama-cpp-python reads input, vLLM prompt, llama.cpp's server content
COUNTERS = ("/extras/tokenize/count input", "/tokenize prompt", "/tokenize content")

CountAt = Callable[[Endpoint, str, str], Awaitable[int]]


def estimate_cut(text: str, cap: int) -> str:
    """``text`` cut to about ``cap`` tokens without a tokenizer, erring short: an ASCII
    character counts as 1/ASCII_CHARS_PER_TOKEN of a token, any other as a whole token."""
    budget = cap * ASCII_CHARS_PER_TOKEN
    for i, ch in enumerate(text):
        budget -= 1 if ch < "\x80" else ASCII_CHARS_PER_TOKEN
        if budget < 0:
            return text[:i]
    return text


class TextFitter:
    """Cuts texts by an endpoint's tokens; ``count_at(ep, "path field", text)`` asks the
    server to count (the HTTP client's)."""

    def __init__(self, count_at: CountAt):
        self.count_at = count_at

    async def fit(self, ep: Endpoint, text: str, cap: int) -> tuple[str, int | None]:
        """``text`` cut to at most ``cap`` tokens of ``ep``'s model, and its token count when
        the server counted it. The server's tokenizer when it offers one (probed once per
        endpoint), else the conservative estimate."""
        if len(text.encode("utf-8")) <= cap:  # no token is shorter than one byte
            return text, None
        head = text[: cap * 8]
        if ep.counter is None:
            await self.probe(ep)
        if not ep.counter:
            return estimate_cut(head, cap), None
        try:
            n = await self.count_at(ep, ep.counter, head)
            for _ in range(6):
                if n <= cap:
                    return head, n
                head = head[: max(1, int(len(head) * cap / n * 0.97))]
                n = await self.count_at(ep, ep.counter, head)
            if n <= cap:
                return head, n
        except Failure:
            pass  # the count failed this time: the estimate will do
        return estimate_cut(head, cap), None

    async def probe(self, ep: Endpoint) -> None:
        """Find out once how ``ep`` counts tokens: llama-cpp-python's /extras/tokenize/count,
        llama.cpp's and vLLM's /tokenize, or none."""
        if ep.counter_lock is None:
            ep.counter_lock = asyncio.Lock()
        async with ep.counter_lock:
            if ep.counter is not None:
                return
            reached = False
            for path in COUNTERS:
                try:
                    n = await self.count_at(ep, path, "Helios counts tokens")
                    reached = True
                except Failure as exc:
                    reached = reached or exc.outcome != "refused"
                    continue
                if n > 0:
                    ep.counter = path
                    log.info("%s: texts are cut by the server's tokenizer (%s)", ep.label, path,
                             extra={"endpoint": ep.label})
                    return
            if reached:  # it answered, with no tokenizer: estimate from now on
                ep.counter = ""
                log.info("%s offers no tokenizer; texts are cut by an estimate of %g characters "
                         "a token", ep.label, ASCII_CHARS_PER_TOKEN, extra={"endpoint": ep.label})
