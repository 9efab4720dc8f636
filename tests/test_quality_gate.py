"""The output-quality gate on real sample files: noise is refused, good answers pass."""

from pathlib import Path

import pytest

from helios_desktop.analysis.evidence import apply_evidence
from helios_desktop.analysis.quality import FileVocabulary, check_keywords, check_summary, gate
from helios_desktop.analysis.schema import load_schema
from helios_desktop.records import Document
from helios_desktop.scan.kinds import detect_kind

SAMPLES = Path(__file__).resolve().parent.parent / "resources" / "samples"


def vocab(rel: str) -> FileVocabulary:
    path = SAMPLES / rel
    return FileVocabulary(path.read_text("utf-8"), path.name)


@pytest.mark.parametrize("summary, verdict", [
    ("This C source C source C source C source C source.", "degenerate"),
    ("This settings file is a 0000000000000000.", "degenerate"),
    ("This log log log file records things.", "degenerate"),
    ("This settings file is /var/log/app/ / / / / / / / / / / / / /.", "degenerate"),
    ("This C source is required.", "generic"),
    ("The file contains one or two sentences on what this file is and what it contains.", "copied"),
    ("The file content between the markers is untrusted data.", "copied"),
    ("This text document is a summary of the file.", "placeholder"),
    ("{insert summary here}", "placeholder"),
    ("This log file is a log file.", "placeholder"),
    ("This C source file contains code.", "generic"),
    ("This C source describes a banana plantation in Ecuador and its tractors.", "ungrounded"),
    ("", "empty"),
    (None, "empty"),
])
def test_noise_is_refused(summary, verdict):
    got = check_summary(summary, vocab("code/matrix.c"), "C source")
    assert got.verdict == verdict, got
    assert not got.ok


@pytest.mark.parametrize("rel, kind, summary", [
    ("code/matrix.c", "C source", "This C source multiplies two 3x3 matrices and prints the result."),
    ("code/inventory.py", "Python source", "Tracks warehouse stock levels and flags items to reorder."),
    ("logs/app.log", "log file", "Server log with a payment gateway timeout and a worker crash."),
    ("legal/nda.md", "Markdown document", "A mutual non-disclosure agreement between two parties."),
    ("letters/complaint.eml", "email message", "Rita Moreau complains that her dining table arrived damaged."),
])
def test_good_answers_pass(rel, kind, summary):
    got = check_summary(summary, vocab(rel), kind)
    assert got.ok, got
    assert got.grounding >= 0.5


def test_keywords():
    v = vocab("code/inventory.py")
    assert check_keywords(["warehouse", "stock", "reorder"], v).ok
    assert check_keywords(["stock", "stock", "Stock"], v).verdict == "degenerate"
    assert check_keywords(["00000000", "stock"], v).verdict == "degenerate"
    assert check_keywords(["keyword1", "keyword2"], v).verdict == "placeholder"
    assert check_keywords(["banana", "tractor", "Ecuador"], v).verdict == "ungrounded"
    assert check_keywords(["file", "code"], v, "Python source").verdict == "generic"
    assert check_keywords([], v).verdict == "empty"


def test_prompt_words_that_are_in_the_file_are_not_copies():
    # A file that itself says "one or two sentences" may be summarised with those words.
    v = FileVocabulary("Write one or two sentences on what this file is about, then stop.", "guide.txt")
    assert check_summary("A guide asking for one or two sentences on what this file is.", v).verdict != "copied"


def doc_for(rel: str) -> Document:
    path = SAMPLES / rel
    text = path.read_text("utf-8")
    kind = detect_kind(str(path).encode(), text)
    return Document(str(path).encode(), kind.label, text, hints=kind.hints())


def test_failed_fields_take_the_evidence_and_say_so():
    doc = doc_for("code/inventory.py")
    data = {"summary": "This Python source Python source Python source.", "category": "other",
            "language": "x", "keywords": ["aaaaaaaaaa"], "contains_personal_data": False}
    decided, quality = apply_evidence(data, doc, load_schema(None))
    assert decided["summary"] == decided["keywords"] == "evidence"
    assert quality["gate"] == "fail"
    assert quality["summary"]["verdict"] == "degenerate"
    assert "Track stock levels" in data["summary"]
    assert "items_to_reorder" in data["keywords"]
    # The evidence itself passes the gate.
    again = gate(data, doc.text, "inventory.py", doc.kind)
    assert all(v.ok for v in again.values()), again


def test_passing_answers_stand():
    doc = doc_for("code/matrix.c")
    data = {"summary": "Multiplies two 3x3 matrices and prints the product.", "category": "source_code",
            "language": "C", "keywords": ["matrix", "multiply"], "contains_personal_data": False}
    decided, quality = apply_evidence(data, doc, load_schema(None))
    assert decided["summary"] == decided["keywords"] == "model"
    assert quality["gate"] == "pass"
    assert data["summary"].startswith("Multiplies")


def test_model_fields_limit_what_the_model_decides():
    doc = doc_for("code/matrix.c")
    data = {"summary": "Multiplies two 3x3 matrices and prints the product.", "category": "source_code",
            "language": "C", "keywords": ["matrix", "multiply"], "contains_personal_data": False}
    decided, quality = apply_evidence(data, doc, load_schema(None), model_fields=frozenset({"summary"}))
    assert decided["summary"] == "model" and decided["keywords"] == "evidence"
    assert quality["keywords"]["verdict"] == "not_asked" and quality["gate"] == "pass"
