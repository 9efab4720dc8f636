"""Prompts for chat models: instructions in the system message, the length budget stated,
no field descriptions to copy, the file named by its path inside the analyzed folder."""

import json

from helios_desktop.analysis import prompts
from helios_desktop.analysis.schema import DEFAULT_SCHEMA, load_schema
from helios_desktop.records import Document


def _doc():
    return Document(b"/home/ana/archive/letters/thank_you.txt", "text document",
                    "Dear Ms. Okafor, thank you for the tour.", root=b"/home/ana/archive")


def test_chat_prompt_puts_instructions_in_the_system_message():
    schema = load_schema(None)
    system, user = json.loads(prompts.chat_messages(_doc(), _doc().text, schema))
    assert system["role"] == "system" and user["role"] == "user"
    assert "JSON" in system["content"] and "untrusted" in system["content"]
    # the user message is the file and its evidence only
    assert "JSON" not in user["content"] and "untrusted" not in user["content"]
    assert prompts.FENCE in user["content"] and "Dear Ms. Okafor" in user["content"]


def test_chat_prompt_states_the_summary_budget():
    system = prompts.system_message(load_schema(None))
    assert "240 characters" in system


def test_chat_prompt_has_no_field_description_to_copy():
    text = prompts.chat_messages(_doc(), _doc().text, load_schema(None))
    for spec in DEFAULT_SCHEMA["properties"].values():
        assert spec["description"] not in text


def test_prompts_name_the_file_relative_to_the_folder():
    schema = load_schema(None)
    for text in (prompts.chat_messages(_doc(), "x", schema),
                 prompts.completion_prompt(_doc(), "x", schema)):
        assert "File: letters/thank_you.txt" in text
        assert "/home/ana" not in text


def test_a_custom_schema_keeps_its_own_field_descriptions():
    schema = load_schema({"type": "object", "properties": {
        "title": {"type": "string", "maxLength": 80, "description": "The document's title."}},
        "required": ["title"]})
    system = prompts.system_message(schema)
    assert "The document's title." in system and "title at most 80 characters" in system


def test_the_asked_part_of_the_built_in_schema():
    schema = load_schema(None)
    asked = schema.asked(frozenset({"keywords", "summary"}))
    assert asked.fields == ["summary", "keywords"]  # the built-in order
    assert asked.builtin_fields == ("summary", "keywords")
    assert asked.validate({"summary": "A note.", "keywords": ["garden"]}) is None
    assert asked.validate({"summary": "A note.", "keywords": [], "category": "log"})
    system = prompts.system_message(asked)
    assert "Summary:" in system and "Keywords:" in system and "untrusted" in system
    assert "contains_personal_data" not in system
    # every field a model may be asked (never the format: the evidence's alone), no
    # field, or a user's schema: nothing else to shrink
    everything = schema.asked(None)
    assert "format" in schema.fields and everything.fields == [
        f for f in schema.fields if f != "format"]
    assert "format" not in prompts.system_message(everything)
    assert "format" not in prompts.json_grammar(everything)
    assert schema.asked(frozenset()) is schema
    custom = load_schema({"type": "object", "properties": {"title": {"type": "string"}}})
    assert custom.asked(frozenset({"summary"})) is custom and custom.builtin_fields is None


def test_the_evidence_line_names_category_and_language_only_when_asked():
    from helios_desktop.scan.kinds import detect_kind

    # the kind's own hints: Python is the format, and code has no natural language to
    # hint at (its docstring's English is not the file's language)
    text = '"""Read the delivery notes and print the late ones."""\nprint(1)\n'
    doc = Document(b"/x/a.py", "Python source", text, root=b"/x",
                   hints=detect_kind(b"/x/a.py", text).hints())
    schema = load_schema(None)
    assert doc.hints["format"] == "Python" and doc.hints["language"] == ""
    assert prompts.evidence_lines(doc, schema) == [
        "File: a.py (Python source, category source_code)"]
    assert prompts.evidence_lines(doc, schema.asked(frozenset({"summary"}))) == [
        "File: a.py (Python source)"]
    letter = "Liebe Frau Weber, vielen Dank für die Führung durch den Garten und die Zeit.\n"
    doc = Document(b"/x/brief.txt", "text document", letter, root=b"/x",
                   hints=detect_kind(b"/x/brief.txt", letter).hints())
    assert prompts.evidence_lines(doc, schema) == ["File: brief.txt (text document, language German)"]


def test_the_prompt_ends_with_the_file_and_finish_fills_the_unasked_fields():
    from helios_desktop.analysis.outcome import finish
    from helios_desktop.engines.base import Generation

    schema = load_schema(None)
    asked = schema.asked(frozenset({"summary"}))
    doc = _doc()
    gen = Generation(text=json.dumps({"summary": "A thank-you letter to Ms. Okafor for a tour."}),
                     prompt_tokens=10, generated_tokens=12, complete=True)
    result = finish(doc, gen, 0.1, schema, 160, frozenset({"summary"}), asked)
    assert set(result.data) == set(schema.fields)
    assert result.decided_by["summary"] == "model"
    assert {result.decided_by[f] for f in schema.fields if f != "summary"} == {"evidence"}
    assert result.quality["keywords"] == {"verdict": "not_asked"}
