"""The OpenAI-compatible engine: files analyzed by model servers over HTTP.

Ollama, llama.cpp's server, LM Studio, vLLM and SGLang all answer
``POST {base}/chat/completions``. ``OpenAIEngine`` sends each file of a batch as
one request, keeps up to ``max_concurrency`` requests in flight per endpoint and
hands work to the least loaded healthy endpoint. The analysis schema goes along as
``response_format`` (``json_schema``; servers that refuse that dialect, such as
llama-cpp-python's, get ``json_object`` with the schema), and every answer is
validated again by ``analysis.outcome.finish``, as with the ONNX engine.

Faults: a request that times out, is refused, is throttled (429/503, Retry-After
honoured), gets a 5xx or a malformed body goes back to the queue for any healthy
endpoint. The endpoint that failed is taken out of rotation (circuit breaker) for a
capped exponential backoff with jitter, then probed back with one real request.
Only timeouts, 5xx and malformed bodies count against the file itself (a file that
breaks every server fails as ``engine_error``); a dead or busy server does not. When
every endpoint has failed for ``endpoint_down_timeout`` seconds, ``analyze`` raises
``EndpointsDown`` with the results it has: the worker returns those and the run stops
with the files not yet analyzed still pending, to resume later.

Configuration errors are not transient and are not retried: 401/403 (the key), 404 (the
URL) or "model not found" (the model name) take that endpoint out of rotation for the
run; when none is left, ``EndpointsMisconfigured`` stops the run at once, naming the
setting to fix. The text of a file is cut to ``max_input_tokens`` of the server's own
tokens (its tokenize endpoint, probed once per endpoint; else a conservative estimate),
and a prompt the server finds over its context is cut shorter and sent again.

The parts: ``scheduler`` (pure: endpoint choice, breaker, retries), ``client`` (HTTP,
aiohttp), ``fitting`` (texts cut by tokens), ``errors`` (outcomes, advice, key redaction)
and ``engine`` (the loop that joins them). API keys are read from the
environment variable named by ``api_key_env`` in the worker; they are never in the
spec, the config, the database, logs or events.
"""

from __future__ import annotations

from ...config import check_endpoint_url, endpoint_label  # noqa: F401  (re-exported)
from ..spec import EndpointsSpec  # noqa: F401
from .engine import REPORT_EVERY, OpenAIEngine  # noqa: F401
from .errors import OUTCOMES, SECRETS as _SECRETS, snippet as _snippet  # noqa: F401
from .fitting import ASCII_CHARS_PER_TOKEN, estimate_cut  # noqa: F401
from .scheduler import EndpointsDown, EndpointsMisconfigured  # noqa: F401
