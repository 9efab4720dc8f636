"""model_fields: what ``auto`` means for a model folder, and that it reaches a real run."""

import json
import os
import sqlite3

import pytest

from helios_desktop.engines.catalog import MEASURED_FIELDS, folder_model_fields, resolve_model_fields
from helios_desktop.engines.model_folder import ModelFolder
from helios_desktop.paths import DEFAULT_MODEL_NAME
from helios_desktop.records import Document

from conftest import analyze_args, helios


def folder(tmp_path, name: str, marker: dict | None = None) -> ModelFolder:
    path = tmp_path / name
    path.mkdir()
    (path / "genai_config.json").write_text(json.dumps({"model": {"type": "llama"}}))
    if marker is not None:
        (path / "helios_model.json").write_text(json.dumps(marker))
    return ModelFolder.read(path)


def test_auto_reads_the_marker_first(tmp_path):
    built = folder(tmp_path, DEFAULT_MODEL_NAME, {"name": "x", "model_fields": ["category"]})
    assert folder_model_fields(built) == frozenset({"category"})
    assert resolve_model_fields("auto", built) == frozenset({"category"})


def test_auto_knows_measured_models_built_before_the_marker_key(tmp_path):
    old = folder(tmp_path, DEFAULT_MODEL_NAME, {"name": DEFAULT_MODEL_NAME, "precision": "int4"})
    assert resolve_model_fields("auto", old) == frozenset(MEASURED_FIELDS[DEFAULT_MODEL_NAME])


def test_auto_lets_an_unmeasured_model_decide_every_field(tmp_path):
    other = folder(tmp_path, "my-fine-tuned-model")
    assert resolve_model_fields("auto", other) is None
    assert resolve_model_fields("auto", None) is None  # a model server: every field


def test_explicit_values_win(tmp_path):
    built = folder(tmp_path, DEFAULT_MODEL_NAME, {"model_fields": []})
    assert resolve_model_fields("all", built) is None
    assert resolve_model_fields(["summary"], built) == frozenset({"summary"})
    assert resolve_model_fields([], None) == frozenset()


def _decided(db) -> list[tuple[dict, dict]]:
    conn = sqlite3.connect(db)
    rows = [(json.loads(d), json.loads(q)) for d, q in conn.execute(
        "SELECT decided_by, quality FROM analysis_results WHERE decided_by IS NOT NULL")]
    conn.close()
    return rows


@pytest.mark.parametrize("setting, who", [("[]", {"evidence"}), ("[summary]", None)])
def test_model_fields_reach_the_onnx_engine(tmp_path, tiny_model, setting, who):
    folder_in = tmp_path / "in"
    folder_in.mkdir()
    (folder_in / "a.py").write_text("def add(a, b):\n    return a + b\n")
    (folder_in / "notes.txt").write_text("Ideas for the garden: tomatoes, carrots and a compost bin.\n")
    db = tmp_path / "h.db"
    result = helios(*analyze_args(folder_in, db, tiny_model, "--set", f"model_fields={setting}"))
    assert result.returncode == 0, result.stderr
    decided = _decided(db)
    assert len(decided) == 2
    for d, quality in decided:
        assert quality["keywords"] == {"verdict": "not_asked"} and d["keywords"] == "evidence"
        if who is not None:
            assert set(d.values()) == who
            assert quality["summary"] == {"verdict": "not_asked"} and quality["gate"] == "not_asked"
        else:  # the summary was asked and gated; only it may be the model's
            assert quality["summary"]["verdict"] != "not_asked"
            assert quality["gate"] in ("pass", "fail")
            assert {k for k, v in d.items() if v == "model"} <= {"summary"}


def test_a_model_asked_nothing_is_not_loaded(tmp_path):
    """Issue 22 step 5: where model_fields resolves to no field (a folder whose marker says
    so, under ``auto``), the run decides from the evidence without loading an engine. The
    folder here holds no weights at all: loading it would fail the run."""
    model = folder(tmp_path, "asked-nothing", {"name": "asked-nothing", "model_fields": []})
    folder_in = tmp_path / "in"
    folder_in.mkdir()
    (folder_in / "a.py").write_text("def add(a, b):\n    return a + b\n")
    (folder_in / "notes.txt").write_text("Ideas for the garden: tomatoes, carrots and a compost bin.\n")
    db = tmp_path / "h.db"
    result = helios(*analyze_args(folder_in, db, model.path))
    assert result.returncode == 0, result.stderr
    assert "2 done, 0 failed" in result.stdout, result.stdout
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT f.status, r.decided_by, r.quality, r.summary FROM files f "
                        "JOIN analysis_results r ON r.file_id = f.id").fetchall()
    tokens = conn.execute("SELECT SUM(prompt_tokens), SUM(generated_tokens), COUNT(*) "
                          "FROM performance_metrics").fetchone()
    model_name = conn.execute("SELECT model FROM runs").fetchone()[0]
    conn.close()
    assert model_name == "asked-nothing"
    assert tokens[2] >= 1 and tokens[0] == 0 and tokens[1] == 0, tokens
    assert len(rows) == 2
    for status, decided, quality, summary in rows:
        assert status == "done" and summary
        assert set(json.loads(decided).values()) == {"evidence"}
        assert json.loads(quality)["gate"] == "not_asked"


# A Llama-3-style chat template (as bench/gpu.py gives its model): the tiny model then
# takes the chat path, where the model is asked only the fields it may decide.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n"
    "{{ message['content'] | trim }}<|eot_id|>{% endfor %}"
    "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}")


@pytest.fixture
def tiny_chat_model(tmp_path, tiny_model):
    import shutil

    path = tmp_path / "tiny-chat"
    shutil.copytree(tiny_model, path)
    config = json.loads((path / "tokenizer_config.json").read_text())
    config["chat_template"] = CHAT_TEMPLATE
    (path / "tokenizer_config.json").write_text(json.dumps(config))
    assert ModelFolder.read(path).has_chat_template
    return path


def test_a_chat_model_is_asked_only_its_fields(tmp_path, tiny_chat_model):
    """The grammar, and so the answer, hold the asked fields only; the stored result still
    has every field, the others decided by the evidence."""
    folder_in = tmp_path / "in"
    folder_in.mkdir()
    (folder_in / "notes.txt").write_text("Ideas for the garden: tomatoes, carrots and a compost bin.\n")
    (folder_in / "a.py").write_text("def add(a, b):\n    return a + b\n")
    db = tmp_path / "h.db"
    result = helios(*analyze_args(folder_in, db, tiny_chat_model,
                                  "--set", "model_fields=[summary, keywords]"))
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT raw_output, summary, category, language, keywords, decided_by, "
                        "quality FROM analysis_results").fetchall()
    conn.close()
    assert len(rows) == 2
    answered = 0
    for raw, summary, category, language, keywords, decided, quality in rows:
        decided, quality = json.loads(decided), json.loads(quality)
        assert category and summary is not None and keywords is not None
        for field in ("category", "language", "contains_personal_data"):
            assert decided[field] == "evidence"
        try:
            answer = json.loads(raw)
        except ValueError:  # noise cut at the token limit: the evidence fills every field
            assert quality["summary"]["verdict"] == "bad_output"
            continue
        answered += 1
        assert set(answer) == {"summary", "keywords"}
        assert quality["summary"]["verdict"] != "not_asked"
    assert answered, "no answer of the tiny model closed within max_output_tokens"


def test_the_prompt_asks_only_the_fields_the_model_decides(tiny_chat_model):
    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.engines.onnx import ONNXInferenceEngine
    from helios_desktop.records import Document

    engine = ONNXInferenceEngine(tiny_chat_model, load_schema(None), provider="cpu",
                                 model_fields=frozenset({"summary"}))
    try:
        doc = Document(b"/x/a.py", "Python source", "print(1)\n", root=b"/x",
                       hints={"category": "source_code", "language": "Python"})
        prompt = engine.prompt_text(doc)
        guidance = json.loads(engine.request_guidance("Python source")[1])
    finally:
        engine.close()
    assert "Summary:" in prompt and "Keywords:" not in prompt
    assert "contains_personal_data" not in prompt and "category source_code" not in prompt
    assert list(guidance["properties"]) == ["summary"] and guidance["required"] == ["summary"]


def test_asked_nothing_in_so_many_words_needs_no_model_at_all(tmp_path):
    """``model_fields: []`` with no model folder anywhere (the default not built): the run
    is the evidence's, named so, with one worker a core."""
    folder_in = tmp_path / "in"
    folder_in.mkdir()
    (folder_in / "a.py").write_text("def add(a, b):\n    return a + b\n")
    db = tmp_path / "h.db"
    result = helios("analyze", folder_in, "--db", db, "--set", "model_fields=[]")
    assert result.returncode == 0, result.stderr
    assert "1 done, 0 failed" in result.stdout and "(evidence only)" in result.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT model FROM runs").fetchone()[0] == "evidence only"
    conn.close()


def test_a_server_is_not_asked_the_language_of_a_file_without_prose(tmp_path):
    """The server engine leaves the language out of the prompt and the response format of
    a file the kind says has no prose (code, data, a log); a prose file is asked it."""
    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.engines.openai.engine import OpenAIEngine
    from helios_desktop.engines.spec import EndpointsSpec
    from helios_desktop.scan.kinds import detect_kind

    engine = OpenAIEngine(EndpointsSpec(urls=("http://127.0.0.1:9/v1",), api_model="m"),
                          load_schema(None), check=False)
    try:
        code = '"""Print the late deliveries of every depot."""\nprint(1)\n'
        letter = "Dear Jo, the tulips by the fence are in bloom again; come and see them.\n"
        bodies = {}
        for name, text in (("late.py", code), ("note.txt", letter)):
            path = os.fsencode(tmp_path / name)
            doc = Document(path, detect_kind(path, text).label, text,
                           hints=detect_kind(path, text).hints(), root=os.fsencode(tmp_path))
            bodies[name] = engine.payload(doc, "json_schema", text)
        for name, asked in (("late.py", False), ("note.txt", True)):
            schema = bodies[name]["response_format"]["json_schema"]["schema"]
            assert ("language" in schema["properties"]) is asked, name
            assert "format" not in schema["properties"]  # the evidence's alone, for every file
            assert ("language" in bodies[name]["messages"][1]["content"]) is asked, name
    finally:
        engine.close()
