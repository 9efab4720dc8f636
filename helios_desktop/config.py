"""Configuration: shipped defaults, YAML files, environment variables, command-line overrides.

Every value remembers where it came from, so ``helios config show`` can say.
Validation names the key, the bad value and what is allowed; unknown keys are
refused (with a suggestion when one is close).
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .records import MODEL_FIELDS
from .resources import resource_path
from .scan.globs import GlobError, check_pattern
from .scan.magic import FAMILIES

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


@dataclass
class Settings:
    """The effective configuration, with the source of every value."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def with_overrides(self, overrides: dict[str, Any], source: str) -> Settings:
        values, sources = dict(self.values), dict(self.sources)
        for key, raw in overrides.items():
            values[key] = validate_value(key, raw, source)
            sources[key] = source
        settings = Settings(values, sources)
        settings.check_combination()
        return settings

    def check_combination(self) -> None:
        if not self.values["metrics_allow_remote"] and not is_loopback(self.values["metrics_host"]):
            raise ConfigError(
                f"metrics_host {self.values['metrics_host']!r} (from {self.sources['metrics_host']}) "
                "is not a loopback address; the metrics exporter binds to 127.0.0.1 unless you also "
                "set metrics_allow_remote: true")

        if self.values["engine"] == "openai":
            self._check_endpoints()

    def _check_endpoints(self) -> None:
        src = self.sources
        if not self.values["endpoints"]:
            raise ConfigError(f"engine openai (from {src['engine']}) needs endpoints: a list of "
                              "base URLs such as [http://127.0.0.1:11434/v1] (or --endpoint URL)")
        if not self.values["api_model"]:
            raise ConfigError(f"engine openai (from {src['engine']}) needs api_model: the model "
                              "name the server knows, such as llama3.2:3b (or --api-model NAME)")
        for url in self.values["endpoints"]:
            try:
                check_endpoint_url(url, self.values["allow_insecure_remote"])
            except ValueError as exc:
                raise ConfigError(f"endpoints (from {src['endpoints']}): {exc}") from None

    def show(self, notes: dict[str, str] | None = None) -> str:
        """One line per setting: value and source (and ``notes[key]`` when given)."""
        width = max(len(k) for k in self.values)
        lines = []
        for key in FIELDS:
            note = f"; {notes[key]}" if notes and key in notes else ""
            lines.append(f"{key:<{width}}  {json.dumps(self.values[key])}  "
                         f"# {self.sources[key]}{note}")
        return "\n".join(lines)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_label(url: str) -> str:
    """The URL as shown in metrics, events and logs: no user, password or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path.rstrip('/')}"


def check_endpoint_url(url: str, allow_insecure_remote: bool) -> str:
    """A base URL, normalised; ValueError says what is wrong with it."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("a base URL such as http://127.0.0.1:11434/v1")
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) base URL such as http://127.0.0.1:11434/v1")
    if parts.username or parts.password:
        raise ValueError(f"{endpoint_label(url)}: put no credentials in the URL; "
                         "name an environment variable in api_key_env instead")
    if parts.query or parts.fragment:
        raise ValueError(f"{endpoint_label(url)}: a base URL has no query or fragment")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure_remote:
        raise ValueError(f"{url} sends file contents unencrypted to another machine; use https, "
                         "or set allow_insecure_remote: true")
    if url.endswith("/chat/completions"):
        url = url[: -len("/chat/completions")]
    return url


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


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}".replace("\n", " ")) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of settings, "
                          f"not a {type(data).__name__}")
    return data


def user_config_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("helios")) / "config.yaml"


def parse_override(item: str) -> tuple[str, Any]:
    """Parse one ``KEY=VALUE`` from ``--set`` (the value is read as YAML)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, for example --set workers=2")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


ENV_PREFIX = "HELIOS_"
PRECEDENCE = ("defaults < per-user config file < --config FILE (or HELIOS_CONFIG) "
              "< HELIOS_<KEY> environment variables < --set KEY=VALUE and command-line flags")


def env_settings(environ: dict[str, str] | None = None) -> dict[str, tuple[str, Any]]:
    """Settings given as ``HELIOS_<KEY>`` variables: {key: (variable, value read as YAML)}.
    Other HELIOS_ variables (HELIOS_CONFIG, ...) are not settings and are left alone."""
    environ = os.environ if environ is None else environ
    found = {}
    for name, raw in environ.items():
        key = name[len(ENV_PREFIX):].lower()
        if name.startswith(ENV_PREFIX) and key in FIELDS:
            try:
                value = yaml.safe_load(raw) if raw.strip() else None
            except yaml.YAMLError:
                value = raw
            found[key] = (name, value)
    return found


def config_file_in_use(config_file: str | os.PathLike | None = None,
                       environ: dict[str, str] | None = None) -> tuple[Path | None, str]:
    """The config file named by ``--config`` or else ``HELIOS_CONFIG``, and which named it."""
    environ = os.environ if environ is None else environ
    if config_file:
        return Path(config_file), "--config"
    if environ.get("HELIOS_CONFIG"):
        return Path(os.path.expanduser(environ["HELIOS_CONFIG"])), "HELIOS_CONFIG"
    return None, ""


def load_settings(config_file: str | os.PathLike | None = None,
                  overrides: dict[str, Any] | None = None,
                  environ: dict[str, str] | None = None) -> Settings:
    """Defaults, the per-user file, ``config_file`` (or ``HELIOS_CONFIG``), ``HELIOS_<KEY>``
    environment variables, then ``overrides`` (see PRECEDENCE)."""
    default_file = resource_path("default_config.yaml")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in _read_yaml(default_file).items():
        values[key] = validate_value(key, value, f"defaults ({default_file})")
        sources[key] = "default"
    missing = set(FIELDS) - set(values)
    if missing:
        raise ConfigError(f"the shipped defaults {default_file} lack {sorted(missing)}; reinstall Helios")
    user_file = user_config_path()
    extra, named_by = config_file_in_use(config_file, environ)
    if named_by == "HELIOS_CONFIG" and not extra.exists():
        raise ConfigError(f"HELIOS_CONFIG names the config file {extra}, which does not exist; "
                          "fix the variable or unset it")
    files = [(user_file, str(user_file))] if user_file.exists() else []
    if extra is not None and not (user_file.exists() and extra.resolve() == user_file.resolve()):
        files.append((extra, str(extra) if named_by == "--config" else f"HELIOS_CONFIG={extra}"))
    for path, label in files:
        for key, value in _read_yaml(path).items():
            values[key] = validate_value(key, value, f"config file {path}")
            sources[key] = label
    for key, (name, value) in env_settings(environ).items():
        values[key] = validate_value(key, value, f"environment variable {name}")
        sources[key] = f"environment {name}"
    settings = Settings(values, sources)
    if overrides:
        return settings.with_overrides(overrides, "command line")
    settings.check_combination()
    return settings


def save_user_settings(changes: dict[str, Any], path: Path | None = None) -> Path:
    """Merge ``changes`` into the user config file (validated first)."""
    path = path or user_config_path()
    current = _read_yaml(path) if path.exists() else {}
    for key, value in changes.items():
        current[key] = validate_value(key, value, "settings")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(current, sort_keys=False), "utf-8")
    return path
