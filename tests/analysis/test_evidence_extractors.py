"""Each evidence extractor on a real sample file: the summary names what is in it."""

from pathlib import Path

import pytest

from helios_desktop.analysis.describe import describe
from helios_desktop.analysis.quality import gate
from helios_desktop.extract.read import read_file
from helios_desktop.records import FileTask, Reason
from helios_desktop.scan.reader import Skip, read_document

SAMPLES = Path(__file__).resolve().parents[2] / "resources" / "samples"

# file -> (kind label, words the summary must contain, a keyword that must be among them)
EXPECTED = {
    "code/inventory.py": ("Python source", ["Track stock levels", "items_to_reorder"], "items_to_reorder"),
    "code/matrix.c": ("C source", ["Multiply two 3x3 matrices", "multiply"], None),
    "code/ringbuf.h": ("C header", ["ring buffer", "ringbuf_push"], None),
    "code/Makefile": ("Makefile", ["firmware", "flash"], None),
    "code/fix-payment-timeout.patch": ("patch", ["Retry the payment gateway", "orders/payment.py", "2 files"], None),
    "legal/LICENSE": ("licence text", ["MIT License"], "MIT License"),
    "legal/LICENSE-APACHE": ("licence text", ["Apache License 2.0", "Northfield Cooperative"], None),
    "config/app.ini": ("settings file", ["server", "logging", "cache"], None),
    "config/profile": ("shell profile", ["PATH", "EDITOR", "ll"], None),
    "config/backup-agent.service": ("systemd unit", ["Nightly backup agent", "/usr/local/bin/backup-agent"], None),
    "config/Dockerfile": ("Dockerfile", ["python:3.12-slim", "8080"], None),
    "config/ci.yml": ("YAML file", ["Greenhouse tests", "lint", "unit-tests", "push"], None),
    "config/docker-compose.yml": ("YAML file", ["web", "db"], None),
    "logs/app.log": ("log file", ["9 lines", "2026-03-02 08:00:01", "2026-03-02 10:11:19", "2 errors"], None),
    "logs/syslog": ("log file", ["11 lines", "sshd", "Failed password"], None),
    "data/sales.csv": ("CSV table", ["5 rows", "region", "revenue"], "revenue"),
    "data/readings_march.tsv": ("CSV table", ["6 rows", "humidity_pct"], None),
    "data/stations.json": ("JSON file", ["stations", "3 records", "elevation_m"], None),
    "data/catalog.xml": ("XML file", ["<catalog>", "book"], None),
    "data/humidity.ipynb": ("Jupyter notebook", ["Greenhouse humidity in March", "3 code", "pandas"], None),
    "data/shop_dump.sql": ("SQL dump", ["products", "orders", "7 rows"], None),
    "data/team_calendar.ics": ("calendar", ["3 events", "2026-03-09", "Quarterly ticket review"], None),
    "data/amara_okafor.vcf": ("contact card", ["Amara Okafor", "Okafor Bakery"], None),
    "docs/safety_briefing.srt": ("subtitles", ["4 cues", "warehouse safety briefing"], None),
    "docs/index.html": ("HTML page", ["Riverside Library", "Opening hours"], None),
    "docs/README.md": ("Markdown document", ["Greenhouse Monitor"], None),
    "reports/greenhouse_paper.tex": ("LaTeX document", ["Low-Cost Humidity Control", "Lindqvist"], None),
    "letters/complaint.eml": ("email message", ["Rita Moreau", "Damaged delivery"], None),
    "letters/thank_you.txt": ("text document", ["Ms. Okafor", "bakery"], None),
}


def read(rel: str):
    """The sample as the worker reads it (documents extracted, everything else as text)."""
    path = str(SAMPLES / rel).encode()
    st = (SAMPLES / rel).stat()
    return read_file(FileTask(path, st.st_size, st.st_mtime_ns), 1 << 20)


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_extractor_names_what_is_in_the_file(rel):
    label, must, keyword = EXPECTED[rel]
    doc = read(rel)
    assert doc.kind == label
    got = describe(doc.path, doc.text, doc.kind, doc.hints)
    for term in must:
        assert term in got.summary, (term, got.summary)
    assert len(got.summary) <= 240
    assert 1 <= len(got.keywords) <= 5 and all(len(k) <= 40 for k in got.keywords), got.keywords
    if keyword:
        assert keyword in got.keywords, got.keywords
    # What the evidence writes passes the same gate as a model's answer.
    verdicts = gate({"summary": got.summary, "keywords": got.keywords}, doc.text,
                    Path(rel).name, doc.kind)
    assert all(v.ok for v in verdicts.values()), verdicts


def test_every_sample_gets_a_summary_and_keywords_that_pass_the_gate():
    for path in sorted(SAMPLES.rglob("*")):
        if not path.is_file():
            continue
        try:
            doc = read(str(path.relative_to(SAMPLES)))
        except Skip as skip:  # the one sample that must not be read: it has a password
            assert (path.name, skip.reason) == ("salaries_protected.pdf", Reason.ENCRYPTED)
            continue
        got = describe(doc.path, doc.text, doc.kind, doc.hints)
        verdicts = gate({"summary": got.summary, "keywords": got.keywords}, doc.text,
                        path.name, doc.kind)
        assert all(v.ok for v in verdicts.values()), (path, got, verdicts)


def test_malformed_files_still_get_a_summary(tmp_path):
    cases = {"broken.json": '{"a": 1, "b": [', "empty.csv": "\n\n", "odd.ics": "BEGIN:VCALENDAR\n",
             "nohead.h": "int x;\n", "weird.tex": "\\section{", "x.patch": "+++ \n"}
    for name, text in cases.items():
        got = describe(name.encode(), text, "text document", {})
        assert got.summary
        from helios_desktop.scan.kinds import detect_kind
        kind = detect_kind(name.encode(), text)
        got = describe(name.encode(), text, kind.label, kind.hints())
        assert got.summary and len(got.summary) <= 240, (name, got)


# Files of the kinds found on an ordinary system (/etc, /usr/share/common-licenses,
# /var/log/apt), written here in their shape.
SYSTEM_LIKE = {
    "bash.bashrc": ("# System-wide .bashrc file for interactive bash(1) shells.\n\n"
                    "# If not running interactively, don't do anything\n[ -z \"$PS1\" ] && return\n\n"
                    "# check the window size after each command\nshopt -s checkwinsize\n",
                    ["System-wide .bashrc file", "checkwinsize"]),
    "BSD": ("Copyright (c) The Regents of the Example Valley College.\nAll rights reserved.\n\n"
            "Redistribution and use in source and binary forms, with or without modification, are "
            "permitted provided that the following conditions are met:\n1. Redistributions of source "
            "code must retain the above copyright notice.\n3. Neither the name of the College nor the "
            "names of its contributors may be used to endorse products.\n",
            ["BSD 3-Clause License", "Example Valley College"]),
    "history.log": ("\nStart-Date: 2026-02-01  09:12:40\nCommandline: apt-get install -y sqlite3\n"
                    "Install: sqlite3:amd64 (3.40.1-2)\nEnd-Date: 2026-02-01  09:12:44\n\n"
                    "Start-Date: 2026-03-05  17:01:02\nCommandline: apt-get upgrade\n"
                    "Upgrade: curl:amd64 (7.88.1-10, 7.88.1-11)\nEnd-Date: 2026-03-05  17:01:30\n",
                    ["2026-02-01", "2026-03-05"]),
    "passwd": ("root:x:0:0:root:/root:/bin/bash\nmarta:x:1000:1000:Marta Vogel:/home/marta:/bin/zsh\n"
               "backup:x:34:34:backup:/var/backups:/usr/sbin/nologin\n"
               "pumpd:x:998:998:greenhouse pump daemon:/var/lib/pumpd:/usr/sbin/nologin\n",
               ["4 colon-separated records", "7 fields", "root, marta, backup"]),
    "os-release": ('PRETTY_NAME="Greenhouse OS 3 (fern)"\nNAME="Greenhouse OS"\nVERSION_ID="3"\n'
                   "ID=greenhouse\nHOME_URL=\"https://greenhouse.example/\"\n",
                   ["PRETTY_NAME", "VERSION_ID"]),
    "services": ("# Network ports of the greenhouse controllers\n#\n"
                 "pumpctl\t7410/tcp\t\t# pump controller\nsensord\t7411/udp\n"
                 "valvectl\t7412/tcp\t\t# valve controller, manual override\n",
                 ["Network ports of the greenhouse controllers"]),
}


@pytest.mark.parametrize("name", sorted(SYSTEM_LIKE))
def test_system_like_files_get_what_they_are(tmp_path, name):
    text, must = SYSTEM_LIKE[name]
    path = tmp_path / name
    path.write_text(text)
    st = path.stat()
    doc = read_document(FileTask(str(path).encode(), st.st_size, st.st_mtime_ns), 1 << 20)
    got = describe(doc.path, doc.text, doc.kind, doc.hints)
    for term in must:
        assert term in got.summary, (term, got.summary)
    verdicts = gate({"summary": got.summary, "keywords": got.keywords}, doc.text, name, doc.kind)
    assert all(v.ok for v in verdicts.values()), (got, verdicts)
