"""The output-quality gate on real sample files: noise is refused, good answers pass."""

from pathlib import Path

import pytest

from helios_desktop.analysis.evidence import apply_evidence
from helios_desktop.analysis.quality import FileVocabulary, check_keywords, check_summary, gate
from helios_desktop.analysis.schema import load_schema
from helios_desktop.records import Document
from helios_desktop.scan.kinds import detect_kind

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"


def vocab(rel: str) -> FileVocabulary:
    path = SAMPLES / rel
    return FileVocabulary(path.read_text("utf-8"), path.name)


@pytest.mark.parametrize("summary, verdict", [
    ("This C source C source C source C source C source.", "degenerate"),
    ("This settings file is a 0000000000000000.", "degenerate"),
    ("This log log log file records things.", "degenerate"),
    ("This settings file is /var/log/app/ / / / / / / / / / / / / /.", "degenerate"),
    ("This C source is required.", "generic"),
    # SmolLM2's answers: a sentence said twice, and one cut off mid-sentence
    ("Multiply two matrices and print the result. Multiply two matrices and print it.", "degenerate"),
    ("Multiplies two 3x3 matrices and prints the result,", "truncated"),
    ("Multiplies two 3x3 matrices and prints the result and", "truncated"),
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


def test_identifiers_and_numbers_are_not_repetition():
    colorsys = ("Python source: Conversion functions between RGB and other color systems. "
                "Defines rgb_to_yiq, yiq_to_rgb, rgb_to_hls, hls_to_rgb.")
    v = FileVocabulary("def rgb_to_yiq(r, g, b): ...\ndef yiq_to_rgb(y, i, q): ...\n"
                       "def rgb_to_hls(r, g, b): ...\ndef hls_to_rgb(h, l, s): ...\n"
                       "Conversion functions between RGB and other color systems.", "colorsys.py")
    assert check_summary(colorsys, v, "Python source").ok
    hosts = "Hosts file mapping 127.0.0.1 to localhost, 127.0.0.2 to runsc and 10.0.0.1 to vm."
    v = FileVocabulary("127.0.0.1 localhost\n127.0.0.2 runsc\n10.0.0.1 vm\n# hosts file mapping", "hosts")
    assert check_summary(hosts, v, "text document").ok


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


# -- the category gate -----------------------------------------------------------------------

def text_doc(tmp_path, name: str, text: str) -> Document:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    kind = detect_kind(str(path).encode(), text)
    return Document(str(path).encode(), kind.label, text, hints=kind.hints())


LETTER = ("Hello Marta,\n\nthe garden looks wonderful this spring. We planted the tulips by "
          "the fence and the old apple tree is in bloom again. Come and see it soon.\n\nLove, Jo\n")
SCRIPT_IN_TXT = ("import os\n\ndef main():\n    for name in os.listdir('.'):\n"
                 "        print(name)\n\nif __name__ == '__main__':\n    main()\n")
LOG_IN_TXT = "".join(f"2026-03-0{i} 10:0{i}:00 backup finished in {i} minutes\n" for i in range(1, 6))


@pytest.mark.parametrize("name, text, answer, kept", [
    ("letter.txt", LETTER, "source_code", False),      # the tiny model's mistake
    ("letter.txt", LETTER, "log", False),
    ("letter.txt", LETTER, "financial", False),
    ("letter.txt", LETTER, "correspondence", True),
    ("letter.txt", LETTER, "other", True),
    ("walk.txt", SCRIPT_IN_TXT, "source_code", True),   # code in a .txt file is code
    ("walk.txt", SCRIPT_IN_TXT, "legal", False),
    ("backup-notes.txt", LOG_IN_TXT, "log", True),
    ("backup-notes.txt", LOG_IN_TXT, "correspondence", False),
])
def test_the_category_gate(tmp_path, name, text, answer, kept):
    doc = text_doc(tmp_path, name, text)
    assert not doc.hints["category"]  # the kind leaves the category to the model
    data = {"summary": "x", "category": answer, "language": "English", "keywords": ["x"],
            "contains_personal_data": False}
    decided, quality = apply_evidence(data, doc, load_schema(None))
    if kept:
        assert data["category"] == answer and decided["category"] == "model"
        assert quality["category"]["verdict"] == "pass"
    else:
        assert data["category"] != answer and decided["category"] == "evidence"
        assert quality["category"]["verdict"] == "implausible"
        assert answer in quality["category"]["detail"]
        assert quality["gate"] == "fail"


def test_implausible_categories_take_the_evidence_best_guess(tmp_path):
    cases = {"letter.txt": (LETTER, "correspondence"), "walk.txt": (SCRIPT_IN_TXT, "source_code"),
             "backup-notes.txt": (LOG_IN_TXT, "log")}
    for name, (text, want) in cases.items():
        doc = text_doc(tmp_path, name, text)
        wrong = "legal"
        data = {"summary": "x", "category": wrong, "language": "English", "keywords": ["x"],
                "contains_personal_data": False}
        apply_evidence(data, doc, load_schema(None))
        assert data["category"] == want, name
    # the samples whose kind leaves the category open
    for rel, want in (("docs/anleitung.txt", "documentation"), ("docs/notes.txt", "other")):
        doc = doc_for(rel)
        assert not doc.hints["category"]
        data = {"summary": "x", "category": "source_code", "language": "English", "keywords": ["x"],
                "contains_personal_data": False}
        decided, _ = apply_evidence(data, doc, load_schema(None))
        assert (data["category"], decided["category"]) == (want, "evidence"), rel


def test_a_decided_category_is_not_gated():
    doc = doc_for("code/inventory.py")
    data = {"summary": "x", "category": "legal", "language": "x", "keywords": ["x"],
            "contains_personal_data": False}
    decided, quality = apply_evidence(data, doc, load_schema(None))
    assert data["category"] == "source_code" and decided["category"] == "evidence"
    assert "category" not in quality


def test_fields_not_asked_take_the_evidence(tmp_path):
    doc = text_doc(tmp_path, "letter.txt", LETTER)
    data = {"summary": "The garden and the tulips by the fence.", "category": "source_code",
            "language": "Klingon", "keywords": ["garden", "tulips"], "contains_personal_data": False}
    decided, quality = apply_evidence(data, doc, load_schema(None), model_fields=frozenset())
    assert set(decided.values()) == {"evidence"}
    assert quality["gate"] == "not_asked"
    assert {quality[f]["verdict"] for f in ("summary", "keywords", "category")} == {"not_asked"}
    assert data["category"] == "correspondence" and data["language"] == "English"
    assert "Marta" in data["summary"] or "garden" in data["summary"]


# -- an answer that cannot be used still gives the file a result ---------------------------------

@pytest.mark.parametrize("rel", ["code/inventory.py", "docs/notes.txt", "logs/app.log",
                                 "letters/lettre.txt", "config/app.ini", "data/sales.csv"])
@pytest.mark.parametrize("text, complete, why", [
    ("This is not JSON {", True, "not JSON"),
    ('{"summary": 42}', True, "schema:"),
    ('{"summary": "This Python source', False, "max_output_tokens"),
])
def test_unusable_answers_give_an_evidence_result(rel, text, complete, why):
    from helios_desktop.analysis.outcome import finish
    from helios_desktop.engines.base import Generation
    from helios_desktop.records import Status

    doc = doc_for(rel)
    result = finish(doc, Generation(text, 100, 20, complete), 0.5, load_schema(None), 160)
    assert result.status == Status.DONE and result.reason is None
    assert result.raw_output == text
    assert set(result.decided_by.values()) == {"evidence"}
    assert result.quality["gate"] == "fail"
    assert result.quality["summary"]["verdict"] == "bad_output"
    assert why in result.quality["summary"]["detail"]
    assert load_schema(None).validate(result.data) is None
    assert result.data["category"] in ("source_code", "other", "log", "correspondence",
                                       "configuration", "data")
    # a natural language where there is prose, '' for code, logs, settings and data
    assert (result.data["language"] == "") == doc.hints["no_prose"]
    assert result.data["format"] == doc.hints["format"] != ""
    # what is stored passes the real gate: a person learns what is in the file
    verdicts = gate(result.data, doc.text, Path(rel).name, doc.kind)
    assert all(v.ok for v in verdicts.values()), verdicts



def test_an_unusable_answer_from_a_model_asked_nothing_says_not_asked():
    """The default model decides no field: its unusable answer changes nothing a person
    reads, so the fields say not_asked (as with a usable answer), not bad_output; fields
    the kind decides carry no verdict."""
    from helios_desktop.analysis.outcome import finish
    from helios_desktop.engines.base import Generation

    doc = doc_for("code/inventory.py")  # the kind decides category and language
    result = finish(doc, Generation("{not json", 10, 5, True), 0.5, load_schema(None), 160,
                    model_fields=frozenset())
    assert result.quality["gate"] == "not_asked"
    assert result.quality["summary"] == result.quality["keywords"] == {"verdict": "not_asked"}
    assert "category" not in result.quality and "language" not in result.quality
    asked = finish(doc, Generation("{not json", 10, 5, True), 0.5, load_schema(None), 160,
                   model_fields=frozenset({"summary"}))
    assert asked.quality["gate"] == "fail"
    assert asked.quality["summary"]["verdict"] == "bad_output"
    assert asked.quality["keywords"] == {"verdict": "not_asked"}


# -- the language gate -----------------------------------------------------------------------

# Files whose kind and stop words leave the language open: the model answers, and only a
# natural language passes (a programming or data language is a format: a field of its own).
TODO = "Tomatoes, basil, compost, seed trays.\n"
NOTE = "Back at three.\n"
FSTAB = "UUID=1234-ABCD  /boot/efi  vfat  umask=0077  0  1\nproc  /proc  proc  defaults  0  0\n"
HOSTS = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"


@pytest.mark.parametrize("name, text, answer, stored, verdict", [
    ("todo", TODO, "English", "English", "pass"),
    ("note", NOTE, "en", "English", "pass"),              # an ISO 639-1 code
    ("note", NOTE, "  english ", "English", "pass"),      # stored under its name
    ("todo", TODO, "INI", "", "implausible"),             # a format, not a language
    ("note", NOTE, "Python", "", "implausible"),
    ("todo", TODO, "text", "", "implausible"),
    ("todo", TODO, "cored", "", "implausible"),           # Gemma's answer on /etc/fstab
    ("note", NOTE, "", "", "implausible"),
])
def test_the_language_gate(tmp_path, name, text, answer, stored, verdict):
    doc = text_doc(tmp_path, name, text)
    assert not doc.hints["language"] and not doc.hints["no_prose"]  # left to the model
    data = {"summary": "x", "category": "other", "language": answer, "format": "",
            "keywords": ["x"], "contains_personal_data": False}
    decided, quality = apply_evidence(data, doc, load_schema(None))
    assert data["language"] == stored
    assert quality["language"]["verdict"] == verdict
    assert decided["language"] == ("model" if verdict == "pass" else "evidence")
    assert data["format"] == "plain text" and decided["format"] == "evidence"
    if verdict != "pass":
        assert quality["gate"] == "fail"
        assert repr(answer) in quality["language"]["detail"]


@pytest.mark.parametrize("name, text, fmt", [
    ("fstab", FSTAB, "table"), ("hosts", HOSTS, "table"),
    ("late.py", '"""Print the late deliveries."""\nprint(1)\n', "Python"),
    ("app.ini", "[server]\n# the port the shop listens on\nport = 8443\n", "INI"),
])
def test_a_file_without_prose_has_no_language_whatever_the_model_says(tmp_path, name, text, fmt):
    doc = text_doc(tmp_path, name, text)
    assert doc.hints["no_prose"] and doc.hints["format"] == fmt
    data = {"summary": "x", "category": "other", "language": "INI", "format": "",
            "keywords": ["x"], "contains_personal_data": False}
    decided, quality = apply_evidence(data, doc, load_schema(None))
    assert data["language"] == "" and decided["language"] == "evidence"
    assert "language" not in quality  # no verdict: the model's answer does not count
    assert data["format"] == fmt and decided["format"] == "evidence"


def test_a_decided_language_is_not_gated(tmp_path):
    doc = text_doc(tmp_path, "note.txt", LETTER)
    assert doc.hints["language"] == "English"  # the stop words decide
    data = {"summary": "x", "category": "other", "language": "cored", "keywords": ["x"],
            "contains_personal_data": False}
    decided, quality = apply_evidence(data, doc, load_schema(None))
    assert (data["language"], decided["language"]) == ("English", "evidence")
    assert "language" not in quality
