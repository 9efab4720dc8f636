"""Where settings come from: shipped defaults, YAML files, the environment, --set; and saving."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ..resources import resource_path
from .fields import FIELDS, ConfigError, validate_value
from .settings import Settings


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
