"""Configuration per environment: HELIOS_CONFIG, HELIOS_<KEY>, and their precedence,
through the real `helios config show`."""

import os

import pytest

from helios_desktop.config import ConfigError, load_settings

from conftest import helios


def _show(*args, **env):
    result = helios("config", "show", *args, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        if not line.startswith("#"):
            key, rest = line.split(None, 1)
            value, _, source = rest.partition("  # ")
            rows[key] = (value, source)
    return rows, result.stdout


def test_precedence_each_layer_wins_over_the_one_before(tmp_path, isolated_home):
    user = isolated_home / "config" / "helios" / "config.yaml"
    user.parent.mkdir(parents=True)
    user.write_text("max_batch_size: 2\nmax_input_tokens: 100\nmax_output_tokens: 50\n"
                    "max_file_size: 1000\n")
    named = tmp_path / "server.yaml"
    named.write_text("max_input_tokens: 200\nmax_output_tokens: 60\nmax_file_size: 2000\n")
    env = {"HELIOS_MAX_OUTPUT_TOKENS": "70", "HELIOS_MAX_FILE_SIZE": "3000"}
    rows, text = _show("--config", named, "--set", "max_file_size=4000", **env)
    assert rows["provider"] == ('"auto"', "default")
    assert rows["max_batch_size"] == ("2", str(user))
    assert rows["max_input_tokens"] == ("200", str(named))
    assert rows["max_output_tokens"] == ("70", "environment HELIOS_MAX_OUTPUT_TOKENS")
    assert rows["max_file_size"] == ("4000", "command line")
    assert "# precedence: defaults < per-user config file < --config" in text


def test_helios_config_names_the_file(tmp_path):
    named = tmp_path / "prod.yaml"
    named.write_text("max_batch_size: 5\n")
    rows, text = _show(HELIOS_CONFIG=str(named))
    assert rows["max_batch_size"] == ("5", f"HELIOS_CONFIG={named}")
    assert f"# config file (HELIOS_CONFIG): {named}" in text
    # --config wins over HELIOS_CONFIG
    other = tmp_path / "other.yaml"
    other.write_text("max_batch_size: 6\n")
    rows, _ = _show("--config", other, HELIOS_CONFIG=str(named))
    assert rows["max_batch_size"] == ("6", str(other))


def test_bad_environment_values_name_the_variable(tmp_path):
    result = helios("config", "show", env={**os.environ, "HELIOS_MAX_BATCH_SIZE": "lots"})
    assert result.returncode == 1
    assert ("environment variable HELIOS_MAX_BATCH_SIZE: setting 'max_batch_size' has the value "
            "'lots'") in result.stderr
    missing = helios("config", "show", env={**os.environ, "HELIOS_CONFIG": str(tmp_path / "x.yaml")})
    assert missing.returncode == 1 and "HELIOS_CONFIG names the config file" in missing.stderr


def test_environment_reaches_analyze(tmp_path, tiny_model):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "big.txt").write_text("x" * 500)
    db = tmp_path / "h.db"
    env = {**os.environ, "HELIOS_MAX_FILE_SIZE": "100", "HELIOS_DATABASE": str(db)}
    result = helios("analyze", folder, "--model", tiny_model, env=env)
    assert result.returncode == 0, result.stderr
    assert "too_large 1" in result.stdout and db.exists()


def test_other_helios_variables_are_not_settings():
    settings = load_settings(environ={"HELIOS_TEST_HOOKS": "{}", "HELIOS_BUNDLE_CUDA": "1"})
    assert set(settings.sources.values()) == {"default"}
    with pytest.raises(ConfigError, match="HELIOS_PROVIDER"):
        load_settings(environ={"HELIOS_PROVIDER": "tpu"})
