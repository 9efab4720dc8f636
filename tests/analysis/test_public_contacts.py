"""Personal data that means it (issue 25): public contacts told apart, non-addresses and
clause numbers not flagged, the letters and customer lists still found. Files are
written here in the shape of the ones a user met (/etc/ssh/ssh_config, a Debian
copyright file, /etc/e2scrub.conf) and read back as a run reads them."""

import json

import pytest

from helios_desktop.analysis.evidence import apply_evidence, personal_evidence
from helios_desktop.analysis.personal_data import find_personal_data
from helios_desktop.analysis.schema import load_schema
from helios_desktop.records import FileTask
from helios_desktop.scan.reader import read_document
from helios_desktop.store.ledger import Ledger
from helios_desktop.store.reader import LedgerReader

from conftest import REPO, sample_documents

SSH_CONFIG = """# This is the ssh client system-wide configuration file.
Host *
#   Ciphers aes128-ctr,aes192-ctr,aes256-ctr,aes128-cbc,3des-cbc
#   MACs hmac-md5,hmac-sha1,umac-64@openssh.com
    KexAlgorithms curve25519-sha256@libssh.org,diffie-hellman-group16-sha512
    SendEnv LANG LC_*
"""
E2SCRUB = """# e2scrub configuration file
# Send e-mail reports of scrub failures to this address:
# recipient=e2scrub@host.domain.name
# Snapshot size, in units of 1024 bytes:
# snap_size_mb=256
"""
COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: pumpctl
Upstream-Contact: Ines Varga <ines.varga@pumpctl-project.org>

Files: *
Copyright: 2019-2024 Ines Varga <ines.varga@pumpctl-project.org>
License: GPL-2+

Files: debian/*
Copyright: 2021 Tomas Berg <tberg@debian.org>
License: GPL-2+

License: GPL-2+
 This program is free software; you can redistribute it and/or modify it under the
 terms of the GNU General Public License. Rights in technical data are as set forth in
 subparagraph (c)(1)(ii) of the Rights in Technical Data and Computer Software clause at
 DFARS 252.227-7013 and FAR 52.227-19.
"""
CHANGELOG = """pumpctl (1.4-2) bookworm; urgency=medium

  * Restart the valve daemon after an upgrade.

 -- Tomas Berg <tberg@debian.org>  Tue, 05 Mar 2024 10:12:00 +0100

pumpctl (1.4-1) bookworm; urgency=low

  * New upstream release.

 -- Tomas Berg <tberg@debian.org>  Mon, 12 Feb 2024 09:00:00 +0100
"""
SOURCE_WITH_CREDIT = '''"""Valve timing for the greenhouse pumps."""
# Written by Ines Varga <ines.varga@pumpctl-project.org>

def open_for(seconds):
    return seconds * 2
'''
HR_LETTER = """Dear Ms Raman,

We are pleased to offer you the position of horticulturist. Please confirm by calling
our HR office on +44 113 496 0781 or writing to priya.raman@fastmail.co.uk.

Yours sincerely,
Helen Okoro
"""
NOT_ADDRESSES = """Test fixtures write to alice@example.com, bob@example.org, ops@example.net,
root@build01.test, admin@intranet.localdomain and user@host.domain.name.
Pinned versions: openssl 3.0.11-1~deb12u2, release 2024.113.0452, build 20240115.1832.
See section 252.227-7013 and version 555-123-4567 of the old protocol.
UID:20260309-standup@northfield.example
Message-ID: <20260309.1234@mail.northfield.example>
Archive: http://article.olduse.net/109@Autzoo.UUCP
"""


def result(summary, keywords, category="report", evidence=None):
    """A stored answer and its personal-data evidence, as the ledger records them."""
    data = {"summary": summary, "category": category, "language": "English",
            "keywords": keywords, "contains_personal_data": bool(evidence)}
    return data, evidence


def read(tmp_path, name, text):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    st = path.stat()
    return read_document(FileTask(str(path).encode(), st.st_size, st.st_mtime_ns), 1 << 20)


def flag(doc):
    answer = {"summary": "s", "category": "other", "language": "English", "keywords": ["k"],
              "contains_personal_data": True}
    apply_evidence(answer, doc, load_schema(None))
    return answer["contains_personal_data"], personal_evidence(doc) or []


@pytest.mark.parametrize("name, text", [("ssh_config", SSH_CONFIG), ("e2scrub.conf", E2SCRUB),
                                        ("notes.txt", NOT_ADDRESSES)])
def test_strings_that_reach_nobody_are_not_findings(tmp_path, name, text):
    doc = read(tmp_path, name, text)
    assert flag(doc) == (False, [])


def test_a_clause_number_is_no_phone_but_a_real_number_still_is():
    assert find_personal_data("DFARS 252.227-7013 and FAR 52.227-19") == []
    assert find_personal_data("clause 252-227-7013") == []
    assert [f.kind for f in find_personal_data("Call 252-227-7013 after six.")] == ["phone"]
    assert [f.kind for f in find_personal_data("Call +1 252 227 7013.")] == ["phone"]


@pytest.mark.parametrize("name, text, public", [
    ("pumpctl/copyright", COPYRIGHT, 3),          # a copyright file: every contact in it
    ("pumpctl/changelog.Debian", CHANGELOG, 2),   # the changelog's signatures
    ("valves.py", SOURCE_WITH_CREDIT, 1),         # a credit line in a source file
    ("package.json", '{"name": "pumpctl", "author": "Ines Varga <ines.varga@pumpctl.org>"}', 1),
])
def test_public_contacts_are_kept_but_do_not_flag_the_file(tmp_path, name, text, public):
    flagged, evidence = flag(read(tmp_path, name, text))
    assert flagged is False
    assert len(evidence) == public and all(e["public_contact"] is True for e in evidence)


def test_a_letter_is_flagged_and_its_contacts_are_personal(tmp_path):
    flagged, evidence = flag(read(tmp_path, "offer.txt", HR_LETTER))
    assert flagged is True
    assert [e["kind"] for e in evidence] == ["phone", "e-mail"]
    assert not any(e.get("public_contact") for e in evidence)


def test_a_personal_finding_outranks_public_ones_past_the_limit(tmp_path):
    credits = "".join(f"# Copyright 2020 Dev{i} <dev{i}@pumps.org>\n" for i in range(8))
    text = credits + "customer = 'marta.kowalski@fastmail.pl'\n"
    flagged, evidence = flag(read(tmp_path, "orders.py", text))
    assert flagged is True and len(evidence) == 5
    assert [e for e in evidence if not e.get("public_contact")][0]["line"] == 9


def test_no_recall_lost_on_the_samples_letters_and_cards():
    """The files bench/sample_personal.json names (the contact card, the complaint, the
    invoice's bank account, the documents' private addresses and the photo's position)
    stay flagged, nothing else is; the calendar's event ids do not flag it any more."""
    docs = {d.path.decode().split("samples/")[1]: d for d in sample_documents()}
    flagged = {rel for rel, doc in docs.items() if flag(doc)[0]}
    expected = json.loads((REPO / "bench" / "sample_personal.json").read_text())["personal"]
    assert "team_calendar.ics" not in expected
    assert flagged == set(expected)


def test_the_overview_lists_personal_data_and_counts_public_contacts_apart(tmp_path):
    from helios_desktop.records import AnalysisResult, ScanChunk, Status

    ledger = Ledger(tmp_path / "d.db")
    run_id = ledger.start_run(b"/docs", "m", "cpu", {})
    public = [{"kind": "e-mail", "line": 3, "sample": "in***@pumpctl.org", "public_contact": True}]
    personal = [{"kind": "phone", "line": 4, "sample": "+4** *** 0781"}]
    files = {b"/docs/pumpctl/copyright": (result("Debian copyright file", ["GPL"], "legal")[0], public),
             b"/docs/hr/offer.txt": (result("Offer letter", ["offer"], "correspondence")[0], personal)}
    files[b"/docs/hr/offer.txt"][0]["contains_personal_data"] = True
    ledger.add_discovered(run_id, ScanChunk(paths=list(files)))
    ids = {task.path: task.file_id for task in ledger.lease(run_id, 10)}
    ledger.record([(ids[p], AnalysisResult(p, Status.DONE, data=d, evidence=e))
                   for p, (d, e) in files.items()])
    ledger.finish_run(run_id, "completed", 0)
    overview = LedgerReader(tmp_path / "d.db").overview(run_id, "/docs")
    assert [p for p, _ in overview["personal"]] == [b"/docs/hr/offer.txt"]
    assert overview["public_contacts"] == 1
    from helios_desktop.store.reader import personal_evidence as shown
    assert shown(public) == "e-mail (line 3): in***@pumpctl.org (public contact)"
    ledger.close()
