"""Per-user locations (platformdirs): config, data (database, models), state (logs),
cache (what can be measured again: the workers calibration)."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "helios"
DEFAULT_MODEL_NAME = "gemma-3-270m-int4-cpu"  # the embedded default, built once per user


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP))


def cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir(APP))


def default_database() -> Path:
    return data_dir() / "helios.db"


def models_dir() -> Path:
    return data_dir() / "models"


def default_model() -> Path:
    return models_dir() / DEFAULT_MODEL_NAME
