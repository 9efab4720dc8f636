"""``Settings``: the effective values with the source of each, checked together."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .fields import FIELDS, ConfigError, validate_value
from .urls import check_endpoint_url, is_loopback


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
