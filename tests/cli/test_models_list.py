"""`helios models list` (issue 25 item 6): a header, columns that line up, the active model
marked, and the checkout's tiny test model listed."""

import re
import shutil

from helios_desktop.paths import models_dir

from conftest import TINY_MODEL, helios


def _columns(line: str, header: str) -> dict[str, str]:
    """The cells of ``line`` by the header's names (cells hold no double space)."""
    return dict(zip(header.split(), re.split(r"\s{2,}", line[2:].strip())))


def test_models_list_has_a_header_aligned_columns_and_the_active_mark(isolated_home):
    installed = models_dir() / "a-model-with-a-rather-long-name"
    shutil.copytree(TINY_MODEL, installed)
    cfg = isolated_home / "config" / "helios" / "config.yaml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(f"model_path: {installed}\n")

    lines = helios("models", "list", check=True).stdout.splitlines()
    header = lines[0]
    assert header.split() == ["NAME", "SIZE", "PRECISION", "RUNTIME", "SOURCE", "PATH"]
    rows = [line for line in lines[1:] if not line.startswith("* the active")]
    cells = {_columns(line, header)["NAME"]: (line[0], _columns(line, header)) for line in rows}
    # The tiny test model of this checkout is listed though it is not the active one.
    mark, tiny = cells["tiny-llama"]
    assert mark == " " and tiny["SOURCE"] == "this checkout (tests)"
    assert tiny["PATH"] == str(TINY_MODEL) and tiny["SIZE"].endswith("MB")
    assert tiny["PRECISION"] == "unknown"  # not "?"
    mark, active = cells["a-model-with-a-rather-long-name"]
    assert mark == "*" and active["PATH"] == str(installed)
    # Columns line up: each text column starts where its header does, sizes end under SIZE.
    size_end = header.index("SIZE") + len("SIZE")
    for line in rows:
        assert line[size_end - 2:size_end] == "MB", line
        for name in ("PRECISION", "RUNTIME", "SOURCE", "PATH"):
            start = header.index(name)
            assert line[start - 1] == " " and line[start] != " ", (name, line)
    assert any(line.startswith("* the active model") for line in lines)

    # `use` finds the listed test model by its name, as it finds an installed one.
    helios("models", "use", "tiny-llama", check=True)
    lines = helios("models", "list", check=True).stdout.splitlines()
    assert any(line.startswith("* tiny-llama ") for line in lines)
