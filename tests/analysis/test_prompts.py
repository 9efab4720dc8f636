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
