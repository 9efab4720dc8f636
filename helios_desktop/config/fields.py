"""Every setting and its check: the value allowed, and an error naming the key and the value."""

from __future__ import annotations

import difflib
import os
import re
from typing import Any

from ..records import MODEL_FIELDS
from ..scan.globs import GlobError, check_pattern
from ..scan.magic import FAMILIES

PROVIDERS = ("auto", "cuda", "cpu")


class ConfigError(ValueError):
    """A configuration problem a user can fix; the message says where and how."""


def _int(minimum: int, maximum: int | None = None):
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum else ""))
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum else ""))
        return value
    return check


def _auto_or_int(minimum: int, maximum: int, zero_means_auto: bool = False):
    """``auto`` or an integer in range (``0`` is kept as a synonym of auto where it meant that)."""
    allowed = f"auto or an integer >= {minimum} and <= {maximum}" + (
        " (0 is the same as auto)" if zero_means_auto else "")

    def check(value: Any) -> str | int:
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(allowed)
        if zero_means_auto and value == 0:
            return "auto"
        if value < minimum or value > maximum:
            raise ValueError(allowed)
        return value
    return check


def _number(minimum: float, maximum: float):
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                minimum <= value <= maximum):
            raise ValueError(f"a number of seconds from {minimum} to {maximum}")
        return float(value)
    return check


def _opt_share(value: Any) -> float | None:
    """None (the model folder's or the runtime's own value) or a fraction in (0, 1]."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError("null (the model folder's value) or a fraction above 0 and at most 1")
    return float(value)


def _opt_int(minimum: int, maximum: int):
    strict = _int(minimum, maximum)

    def check(value: Any) -> int | None:
        if value is None:
            return None
        try:
            return strict(value)
        except ValueError as exc:
            raise ValueError(f"null (the model folder's value) or {exc}") from None
    return check


def _families(value: Any) -> list[str]:
    allowed = "a list of document families to leave unread, from " + ", ".join(FAMILIES) + \
        " ([] reads them all)"
    if value is None:
        return []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(allowed)
    unknown = [v for v in value if v not in FAMILIES]
    if unknown:
        raise ValueError(f"{allowed}; {', '.join(map(repr, unknown))} is not one of them")
    return [f for f in FAMILIES if f in value]


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def _choice(*choices: str):
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError("one of " + ", ".join(choices))
        return value
    return check


def _opt_path(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a path (string) or null")
    return os.path.expanduser(value)


def _globs(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError("a list of glob patterns (strings)")
    for pattern in value:
        try:
            check_pattern(pattern)
        except GlobError as exc:
            raise ValueError(f"a list of valid glob patterns (* ? ** [abc] [!abc]), but {exc}") from None
    return list(value)


def _host(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("a host name or IP address")
    return value


def _schema(value: Any) -> str | dict | None:
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        return os.path.expanduser(value)
    raise ValueError("null, the path of a JSON Schema file, or an inline schema mapping")


def _endpoints(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError("a list of base URLs of OpenAI-compatible servers, "
                         "such as [http://127.0.0.1:11434/v1]")
    return [v.strip().rstrip("/") for v in value]


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a name (string) or null")
    return value.strip()


def _env_name(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError("null or the NAME of an environment variable that holds the key "
                         "(never the key itself)")
    return value


def _model_fields(value: Any) -> str | list[str]:
    allowed = ("auto (what the model folder says), all, or a list of the fields the model "
               "may decide, from " + ", ".join(MODEL_FIELDS) + " ([] for none)")
    if value in ("auto", "all"):
        return value
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(allowed)
    unknown = [v for v in value if v not in MODEL_FIELDS]
    if unknown:
        raise ValueError(f"{allowed}; {', '.join(map(repr, unknown))} is not one of them")
    return [f for f in MODEL_FIELDS if f in value]


# Settings whose bad values are not repeated in error messages (a key pasted by mistake).
_QUIET = {"api_key_env"}


FIELDS: dict[str, Any] = {
    "model_path": _opt_path,
    "provider": _choice(*PROVIDERS),
    "batching": _choice("auto", "static", "continuous"),
    "model_fields": _model_fields,
    "workers": _auto_or_int(1, 64, zero_means_auto=True),
    "intra_op_threads": _auto_or_int(1, 256),
    "max_batch_size": _int(1, 1024),
    "kv_cache_share": _opt_share,
    "kv_block_size": _opt_int(1, 65536),
    "max_scheduled_tokens": _opt_int(1, 1 << 20),
    "max_input_tokens": _int(16, 131072),
    "max_output_tokens": _int(16, 8192),
    "include": _globs,
    "exclude": _globs,
    "max_file_size": _int(1),
    "follow_symlinks": _bool,
    "formats_off": _families,
    "ocr": _choice("off", "tesseract"),
    "extract_timeout": _number(1, 3600),
    "extract_memory_limit": _int(0),
    "database": _opt_path,
    "metrics_host": _host,
    "metrics_port": _int(0, 65535),
    "metrics_allow_remote": _bool,
    "schema": _schema,
    "worker_heartbeat_timeout": _number(1, 3600),
    "worker_batch_timeout": _number(5, 86400),
    "engine": _choice("onnx", "openai"),
    "endpoints": _endpoints,
    "api_model": _opt_str,
    "api_key_env": _env_name,
    "max_concurrency": _int(1, 1024),
    "request_timeout": _number(1, 3600),
    "endpoint_down_timeout": _number(1, 86400),
    "allow_insecure_remote": _bool,
}


def validate_value(key: str, value: Any, source: str) -> Any:
    if key not in FIELDS:
        close = difflib.get_close_matches(key, FIELDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{source}: unknown setting {key!r}{hint}; known settings: "
                          + ", ".join(FIELDS))
    try:
        return FIELDS[key](value)
    except ValueError as exc:
        if key in _QUIET:
            raise ConfigError(f"{source}: setting {key!r} has a value that is not allowed "
                              f"(not repeated here); allowed: {exc}") from None
        raise ConfigError(f"{source}: setting {key!r} has the value {value!r}; "
                          f"allowed: {exc}") from None
