"""Personal data only with validated evidence (issue 13, point 13)."""

import inspect
import shlex

from helios_desktop.analysis.evidence import apply_evidence, personal_evidence
from helios_desktop.analysis.personal_data import find_personal_data, iban_ok, luhn_ok
from helios_desktop.analysis.schema import load_schema
from helios_desktop.records import Document


def kinds(text):
    return [f.kind.split(" (")[0] for f in find_personal_data(text)]


def test_validated_patterns_are_found_with_line_and_a_masked_sample():
    text = ("Invoice for Jane Roe\n"
            "Contact: jane.roe@acme-corp.de, +49 30 1234 5678\n"
            "Pay to DE89 3704 0044 0532 0130 00\n"
            "Card 4539 1488 0343 6467, SSN 123-45-6789\n")
    found = find_personal_data(text)
    assert [f.kind.split(" (")[0] for f in found] == ["e-mail", "phone", "IBAN", "card number",
                                                      "national id"]
    email = found[0]
    assert email.line == 2 and email.sample == "ja***@acme-corp.de"
    assert "1488 0343" not in found[3].sample and found[3].sample.endswith("6467")
    assert "Luhn" in found[3].kind


def test_checks_reject_what_only_looks_like_personal_data():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")
    assert kinds("card 4111 1111 1111 1112, iban DE89 3704 0044 0532 0130 01") == []
    assert kinds("write to user@example.com or noreply@github.com") == []
    assert kinds("version 1.2.3, released 2024-01-15, build 20240115123456") == []
    assert kinds("ssn 000-12-3456 and 666-12-3456") == []
    assert kinds("timestamp 1700000000000") == []


def test_the_standard_library_source_that_was_flagged_is_clean():
    assert kinds(inspect.getsource(shlex)) == []


def test_the_flag_is_raised_only_by_evidence_and_the_evidence_is_kept():
    schema = load_schema(None)
    answer = {"summary": "s", "category": "other", "language": "English", "keywords": [],
              "contains_personal_data": True}
    doc = Document(path=b"/f/notes.txt", kind="text", text="Nothing personal here.\n")
    decided, _quality = apply_evidence(answer, doc, schema)
    assert answer["contains_personal_data"] is False  # the model's bare yes is not enough
    assert decided["contains_personal_data"] == "evidence"
    assert personal_evidence(doc) is None
    doc = Document(path=b"/f/mail.txt", kind="text", text="From: max.muster@firma.ch\n")
    answer["contains_personal_data"] = False
    apply_evidence(answer, doc, schema)
    assert answer["contains_personal_data"] is True
    assert personal_evidence(doc) == [{"kind": "e-mail", "line": 1, "sample": "ma***@firma.ch"}]
