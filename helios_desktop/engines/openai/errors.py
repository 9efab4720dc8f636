"""What a model server's answer means: failure outcomes, configuration advice, and key redaction."""

from __future__ import annotations

import re
import time

# Outcomes of one request, the values of the ``outcome`` label.
OUTCOMES = ("ok", "timeout", "refused", "throttled", "server_error", "client_error",
            "malformed", "error", "dialect", "misconfigured", "too_long")
CHARGED = {"timeout", "server_error", "malformed", "error"}  # count against the file

# A server's answer that the model name is wrong (vLLM, Ollama, LM Studio, llama-cpp-python
# with several models), and one that the prompt is over its context.
MODEL_MISSING = re.compile(rb"model_not_found|model\W[^\n]{0,160}?(not found|does not exist|"
                           rb"not exist|no such|not loaded|try pulling)", re.I)
TOO_LONG = re.compile(rb"context_length_exceeded|exceed[^\n]{0,40}context|context (length|window|"
                      rb"size)[^\n]{0,80}(exceed|is \d+)|maximum context length|prompt is too long|"
                      rb"too many tokens", re.I)
CONTEXT_SIZE = re.compile(rb"(?:maximum context length is|context window of|n_ctx[=: ]+)\s*(\d+)",
                          re.I)
PROMPT_SIZE = re.compile(rb"(\d+) in the messages|(\d+) in your prompt|Requested tokens \((\d+)\)|"
                         rb"n_prompt_tokens\W+(\d+)", re.I)


class Failure(Exception):
    """One request that did not give an answer: its ``outcome`` (one of OUTCOMES) decides
    what the scheduler does with the endpoint and the file."""

    def __init__(self, outcome: str, message: str, retry_after: float | None = None,
                 raw: bytes = b""):
        super().__init__(message)
        self.outcome = outcome
        self.retry_after = retry_after
        self.raw = raw


def config_advice(label: str, url: str, status: int, raw: bytes, path: str, api_model: str,
                  api_key_env: str | None) -> str:
    """What is wrong with an endpoint that refused a request for its configuration, and
    the setting to fix (never the key itself)."""
    said = snippet(raw)
    if status in (401, 403):
        said = "the answer is not shown: it may repeat the key"
        if api_key_env:
            fix = (f"the server refused the key in ${api_key_env}: set api_key_env "
                   "to the variable that holds this server's key")
        else:
            fix = ("the server wants an API key: put it in an environment variable and set "
                   "api_key_env to that variable's name")
    elif status == 404 and not MODEL_MISSING.search(raw):
        fix = (f"no OpenAI-compatible API at {url}/{path}: check this URL in endpoints "
               "(the base URL usually ends in /v1)")
    else:
        fix = (f"the server does not know the model {api_model!r}: set api_model "
               "to a name it serves (GET /v1/models lists them)")
    return f"{label}: HTTP {status} ({said}); {fix}"


def retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def first_int(pattern: re.Pattern, raw: bytes) -> int | None:
    match = pattern.search(raw)
    if not match:
        return None
    return int(next(g for g in match.groups() if g))


# Keys this process sends, and key-like words: never repeated from a server's answer into
# logs, events or errors (OpenAI-style servers echo part of a refused key).
SECRETS: set[str] = set()
_KEYLIKE = re.compile(r"(?i)\bbearer\s+\S+|\bsk-[\w\-.*\u2026]{3,}")


def snippet(raw: bytes) -> str:
    """The start of a server's answer, fit for a log line: keys and key-like words blanked."""
    text = raw[:400].decode("utf-8", "replace")
    for secret in SECRETS:
        text = text.replace(secret, "***")
    return _KEYLIKE.sub("***", text)[:200].replace("\n", " ")
