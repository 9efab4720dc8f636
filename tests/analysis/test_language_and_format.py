"""One meaning per field on real files: language is a natural language or '', format is
the file's format, on the labeled set (bench/labeled) and the samples."""

import json
from pathlib import Path

import pytest

from bench.quality import LABELED, evidence_rows
from conftest import SAMPLES
from helios_desktop.analysis.category import check_language
from helios_desktop.scan.formats import document_format
from helios_desktop.scan.kinds import known_formats

# Every programming, data or markup language the kinds know as a format.
CODE_FORMATS = known_formats()


@pytest.fixture(scope="module")
def labeled_rows():
    return evidence_rows(LABELED.resolve())


@pytest.mark.parametrize("folder", [LABELED, SAMPLES], ids=["labeled", "samples"])
def test_language_is_never_a_programming_or_data_language(folder):
    rows = evidence_rows(Path(folder).resolve())
    assert len(rows) > 60
    for r in rows:
        lang = r["language"]
        assert lang == "" or check_language(lang)[0].ok, (r["file"], lang)
        assert lang not in CODE_FORMATS - {"plain text"}, (r["file"], lang)
        assert r["format"], r["file"]  # every file has a format
    # code, data and logs have no language; their format says what they are
    by_file = {r["file"]: r for r in rows}
    if folder == SAMPLES:
        assert (by_file["code/inventory.py"]["format"], by_file["code/inventory.py"]["language"]) == \
            ("Python", "")
        assert by_file["documents/energy_report.pdf"]["format"] == "PDF"
        assert by_file["documents/energy_report.pdf"]["language"] == "English"
        assert by_file["documents/allotment_photo.jpg"]["format"] == "JPEG"
        assert by_file["documents/site_survey.docx"]["format"] == "DOCX"


def test_the_labeled_set_formats_and_languages(labeled_rows):
    labels = json.loads((LABELED / "labels.json").read_text())["files"]
    rows = {r["file"]: r for r in labeled_rows if r["file"] in labels}
    assert len(rows) == len(labels)
    wrong_format = [(f, r["format"], labels[f]["format"]) for f, r in rows.items()
                    if r["format"] != labels[f]["format"]]
    assert wrong_format == []
    # no prose, no language: every file labeled '' gets '' (a comment's English does not
    # count), and prose its language (a staff list's .es addresses do not make it Spanish)
    wrong_language = [(f, r["language"], labels[f]["language"]) for f, r in rows.items()
                      if r["language"] != labels[f]["language"]]
    assert wrong_language == []


def test_document_formats_read_as_people_name_them():
    assert document_format("pdf") == "PDF"
    assert document_format("docx") == "DOCX"
    assert document_format("image", {"format": "JPEG"}) == "JPEG"
    assert document_format("audio", {}, b"/m/birdsong.wav") == "WAV"
    assert document_format("tar", {"compression": "gzip"}) == "tar (gzip)"
    assert document_format("sqlite") == "SQLite"


def test_stop_words_by_chance_are_no_language():
    """Seen in /etc: an armored key's base64 read as Spanish ("es", "la" by chance), an XML
    catalog without a known extension as Dutch ("de" in its attributes); prose keeps its
    language at the lowest stop-word share the labeled set has (a staff list, 6.5%)."""
    import base64
    import random

    from helios_desktop.scan.kinds import natural_language

    noise = random.Random(3).randbytes(1500)
    key = ("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n"
           + "\n".join(base64.b64encode(noise).decode()[i:i + 64] for i in range(0, 2000, 64))
           + "\n-----END PGP PUBLIC KEY BLOCK-----\n")
    catalog = ('<?xml version="1.0"?>\n<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">\n'
               + "".join(f'  <delegatePublic publicIdStart="-//OASIS//DTD DocBook V4.{i}//EN" '
                         f'catalog="file:///usr/share/xml/docbook/schema/dtd/4.{i}/catalog.xml" de="la"/>\n'
                         for i in range(8)) + "</catalog>\n")
    staff = ("# Staff directory\n\n| Name | Team | Room |\n|---|---|---|\n"
             "| Ana Ruiz | Dispatch | 2.14 |\n| Tom Berg | Workshop | 1.02 |\n\n"
             "Ask the office for the rest of the list. Keys are with the caretaker.\n")
    assert natural_language(key) == ""
    assert natural_language(catalog) == ""
    assert natural_language(staff) == "English"
