"""Configuration: each kind of bad config gets its clear message; sources are shown."""

import pytest

from helios_desktop.config import ConfigError, load_settings

from conftest import helios


@pytest.mark.parametrize("text, words", [
    ("workers: many\n", ["'workers'", "'many'", "integer"]),
    ("provider: tpu\n", ["'provider'", "'tpu'", "auto, cuda, cpu"]),
    ("max_batch_sise: 4\n", ["unknown setting 'max_batch_sise'", "did you mean 'max_batch_size'"]),
    ("follow_symlinks: maybe\n", ["'follow_symlinks'", "true or false"]),
    ("include: 5\n", ["'include'", "glob patterns"]),
    ("metrics_port: 70000\n", ["'metrics_port'", "<= 65535"]),
    ("metrics_host: 0.0.0.0\n", ["not a loopback address", "metrics_allow_remote"]),
    ("workers: [1\n", ["not valid YAML"]),
    ("- a\n- b\n", ["must hold a mapping"]),
    ("model_fields: [summary, title]\n", ["'model_fields'", "'title' is not one of them",
                                          "summary, keywords, category, language"]),
    ("model_fields: sometimes\n", ["'model_fields'", "'sometimes' is not one of them"]),
    ("model_fields: 3\n", ["'model_fields'", "auto (what the model folder says), all"]),
])
def test_bad_config_messages(tmp_path, text, words):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg)
    for word in words:
        assert word in str(info.value)
    if "YAML" not in words[0] and "mapping" not in words[0]:
        assert str(cfg) in str(info.value) or "loopback" in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_sources_and_overrides(tmp_path, isolated_home):
    user = isolated_home / "config" / "helios" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("max_batch_size: 3\n")
    settings = load_settings(overrides={"workers": 2})
    assert settings.max_batch_size == 3 and settings.sources["max_batch_size"] == str(user)
    assert settings.workers == 2 and settings.sources["workers"] == "command line"
    assert settings.provider == "auto" and settings.sources["provider"] == "default"


def test_config_show_cli(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("max_input_tokens: 256\n")
    result = helios("config", "show", "--config", cfg, "--set", "workers=3")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if not line.startswith("#")}
    assert lines["max_input_tokens"].endswith(f"# {cfg}") and "256" in lines["max_input_tokens"]
    assert lines["workers"].endswith("# command line")
    assert lines["provider"].endswith("# default")
    bad = helios("config", "show", "--set", "workers=-1")
    assert bad.returncode == 1 and "'workers'" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize("value, want", [
    ("auto", "auto"), ("all", "all"), ([], []), ("summary", ["summary"]),
    ("category, summary", ["summary", "category"]), (["language", "keywords"], ["keywords", "language"]),
])
def test_model_fields_values(value, want):
    assert load_settings(overrides={"model_fields": value}).model_fields == want


def test_model_fields_on_the_command_line():
    shown = helios("config", "show", "--set", "model_fields=[summary,category]")
    assert shown.returncode == 0, shown.stderr
    line = next(l for l in shown.stdout.splitlines() if l.startswith("model_fields"))
    assert '["summary", "category"]' in line and line.endswith("# command line")
    default = helios("config", "show")
    line = next(l for l in default.stdout.splitlines() if l.startswith("model_fields"))
    assert '"auto"' in line and line.endswith("# default")
    bad = helios("config", "show", "--set", "model_fields=[summary,colour]")
    assert bad.returncode == 1 and "'model_fields'" in bad.stderr and "'colour'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_engine_knobs_are_checked_and_reach_the_engine_options(tmp_path):
    from helios_desktop.config import ConfigError, load_settings
    from helios_desktop.engines.registry import engine_options

    settings = load_settings(overrides={"kv_cache_share": 0.5, "max_scheduled_tokens": 4096})
    assert engine_options(settings) == {"gpu_utilization_factor": 0.5,
                                        "max_scheduled_tokens": 4096}
    assert engine_options(load_settings()) == {}  # null: the model folder's own values
    for key, bad in (("kv_cache_share", 1.5), ("kv_cache_share", 0), ("kv_block_size", 0),
                     ("max_scheduled_tokens", "many")):
        try:
            load_settings(overrides={key: bad})
        except ConfigError as exc:
            assert key in str(exc)
        else:
            raise AssertionError(f"{key}={bad!r} was accepted")
