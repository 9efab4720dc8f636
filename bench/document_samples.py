"""The document samples of resources/samples/documents and the hostile files of the
tests, made here (``python -m bench make-samples [FOLDER]``)."""

from __future__ import annotations

import gzip
import io
import random
import sqlite3
import struct
import tarfile
import zipfile
import zlib
from email.message import EmailMessage
from pathlib import Path

from bench.documents import (REPORT_PAGES, docx_bytes, encrypt_pdf, epub_bytes, odt_bytes,
                             pdf_bytes, pptx_bytes, xlsx_bytes)

RTF = (r"{\rtf1\ansi\deff0{\fonttbl{\f0 Times New Roman;}}"
       r"{\info{\title Minutes of the Allotment Committee}{\author Margaret Hale}"
       r"{\creatim\yr2025\mo2\dy11\hr19\min30}}"
       r"\f0\fs24 {\b Minutes of the Allotment Committee}\par "
       r"Present: Margaret Hale (chair), Omar Haddad, Lucy Brennan.\par "
       r"The committee agreed to raise the plot rent to 42 pounds from April and to buy "
       r"a second water butt for the east gate.\par "
       r"Next meeting: 11 March, village hall.\par }")


def jpeg_with_gps(path: Path) -> None:
    from PIL import Image

    img = Image.new("RGB", (64, 48), (90, 140, 60))
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 80D"
    exif[0x0131] = "Helios sample writer"
    exif[0x0132] = "2025:06:14 09:30:00"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (59.0, 54.0, 47.0)
    gps[3], gps[4] = "E", (10.0, 45.0, 8.0)
    img.save(path, "JPEG", exif=exif)


def wav_with_tags(path: Path, title: str, artist: str, album: str, year: str) -> None:
    rate, seconds = 8000, 2
    data = bytes([128]) * (rate * seconds)
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate, 1, 8)
    info = b"INFO"
    for key, value in ((b"INAM", title), (b"IART", artist), (b"IPRD", album), (b"ICRD", year)):
        raw = value.encode() + b"\x00"
        raw += b"\x00" * (len(raw) % 2)
        info += key + struct.pack("<I", len(raw)) + raw
    chunks = (b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
              + b"LIST" + struct.pack("<I", len(info)) + info)
    path.write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


CHANGELOG = """greenhouse-monitor (2.4.1-1) unstable; urgency=medium

  * New upstream release: humidity alarms repeat every 10 minutes.
  * Fix the sensor timeout on the north bench (Closes: #104233).

 -- Ingrid Solberg <ingrid@gronnhus.example.org>  Tue, 03 Jun 2025 10:12:00 +0200

greenhouse-monitor (2.4.0-1) unstable; urgency=medium

  * New upstream release with CSV export of readings.

 -- Ingrid Solberg <ingrid@gronnhus.example.org>  Mon, 12 May 2025 08:40:00 +0200
"""


def make_samples(folder: Path) -> list[Path]:
    """Write every document sample into ``folder``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    made: dict[str, bytes] = {}
    info = {"Title": "Greenhouse Energy Report 2025", "Author": "Ingrid Solberg",
            "Producer": "Helios sample writer", "CreationDate": "D:20250402101500Z"}
    made["energy_report.pdf"] = pdf_bytes(REPORT_PAGES, info)
    made["scanned_invoice.pdf"] = pdf_bytes([None, None], {"Title": "Scanned invoice 2025-118",
                                                          "Producer": "Helios scanner"})
    made["site_survey.docx"] = docx_bytes(
        "Site survey: Birch Lane depot",
        [("Title", "Site survey: Birch Lane depot"), ("Heading1", "Condition of the roof"),
         ("", "The survey found corrosion on six roof panels and a blocked gutter on the east side."),
         ("Heading1", "Costs"), ("", "The repairs are estimated below.")],
        [["Item", "Quantity", "Cost (EUR)"], ["Roof panel", "6", "1,440"], ["Gutter clearing", "1", "180"]],
        [("Amara Okafor", "Please check the panel count against the photos."),
         ("Tomasz Nowak", "Checked: six panels.")], creator="Amara Okafor")
    made["shop_accounts.xlsx"] = xlsx_bytes(
        {"Invoices": [["Invoice", "Customer", "Amount EUR", "Due"],
                      ["2025-031", "Birch Lane Ltd", 1620, "2025-04-30"],
                      ["2025-032", "Gronnhus AS", 880.5, "2025-05-15"],
                      ["2025-033", "Okafor & Co", 2310, "2025-05-31"]],
         "Payments": [["Date", "Invoice", "Paid EUR"], ["2025-05-02", "2025-031", 1620]]},
        "Shop accounts Q2", "Lucy Brennan")
    made["onboarding_deck.pptx"] = pptx_bytes(
        [("Welcome to the depot team", ["Who we are", "Your first week"], "Greet everyone by name."),
         ("Safety first", ["Hard hats in the yard", "Report every near miss"], "Show the incident form."),
         ("Tools and systems", ["Booking the van", "Time sheets on Fridays"], "Demo the booking page.")],
        "Depot onboarding", "Omar Haddad")
    made["garden_newsletter.odt"] = odt_bytes("Spring newsletter of the community garden", "Lucy Brennan", [
        ("h", "Spring newsletter"), ("p", "The community garden opens its new herb beds on 5 April."),
        ("h", "Volunteers wanted"), ("p", "We need four volunteers to water the seedlings at weekends.")])
    made["committee_minutes.rtf"] = RTF.encode("latin-1")
    made["beekeeping_guide.epub"] = epub_bytes("A Small Guide to Beekeeping", "Harriet Moss", [
        ("Chapter 1: Choosing a hive", "A beginner does best with a National hive and a calm colony of bees."),
        ("Chapter 2: The first inspection", "Inspect the brood frames every nine days from April to August.")])
    msg = EmailMessage()
    msg["From"] = "Omar Haddad <omar.haddad@birchlane.co.uk>"
    msg["To"] = "Lucy Brennan <lucy.brennan@birchlane.co.uk>"
    msg["Date"] = "Wed, 07 May 2025 14:02:00 +0100"
    msg["Subject"] = "Van booking for the Thursday delivery"
    msg.set_content("Hi Lucy,\n\nCould you book the van for Thursday morning? The delivery of roof "
                    "panels arrives at 8:30 and needs two people.\n\nThanks,\nOmar\n")
    msg.add_attachment(b"Item,Qty\nRoof panel,6\n", maintype="text", subtype="csv",
                       filename="delivery_list.csv")
    msg.set_boundary("helios-sample-boundary")
    made["van_booking.eml"] = bytes(msg)
    made["changelog.Debian.gz"] = gzip.compress(CHANGELOG.encode(), mtime=0)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (("project/README.txt", "Depot renovation project files.\n"),
                           ("project/drawings/roof_plan.txt", "Roof plan, panels 1-24.\n"),
                           ("project/budget.csv", "item,cost\nroof,1440\ngutter,180\n"),
                           ("project/photos/panel_07.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64)):
            zf.writestr(zipfile.ZipInfo(name, (2025, 5, 1, 12, 0, 0)), data, zipfile.ZIP_DEFLATED)
    made["depot_project.zip"] = buf.getvalue()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, text in (("backup/etc/hosts", "127.0.0.1 localhost\n"),
                           ("backup/home/notes.txt", "Renew the domain in June.\n"),
                           ("backup/var/log/backup.log", "2025-06-01 02:00:01 backup started\n")):
            data = text.encode()
            member = tarfile.TarInfo(name)
            member.size, member.mtime = len(data), 1748736000
            tar.addfile(member, io.BytesIO(data))
    made["server_backup.tar.gz"] = gzip.compress(buf.getvalue(), mtime=0)
    paths = []
    for name, data in made.items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    jpeg_with_gps(folder / "allotment_photo.jpg")
    wav_with_tags(folder / "birdsong.wav", "Blackbird at dawn", "Harriet Moss", "Garden Sounds", "2024")
    db = folder / "library.sqlite"
    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as conn:
        conn.executescript("""
            CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT, author TEXT, year INTEGER);
            CREATE TABLE loans (id INTEGER PRIMARY KEY, book_id INTEGER, member TEXT, due TEXT);
            INSERT INTO books (title, author, year) VALUES ('A Small Guide to Beekeeping', 'Harriet Moss', 2024),
                ('Soil and Compost', 'Omar Haddad', 2021), ('Roofs of the North', 'Ingrid Solberg', 2019);
            INSERT INTO loans (book_id, member, due) VALUES (1, 'Lucy Brennan', '2025-07-01');""")
    conn.close()
    paths += [folder / "allotment_photo.jpg", folder / "birdsong.wav", db]
    if encrypt_pdf(folder / "energy_report.pdf", folder / "salaries_protected.pdf", "s3cret-Helios"):
        paths.append(folder / "salaries_protected.pdf")
    return paths


# -- hostile files (made by the tests, never committed) ------------------------------------------

def zip_bomb(path: Path, declared: int = 2 << 30) -> None:
    """A zip whose one member inflates to ``declared`` bytes of zeros (2 GiB: ~2 MB on disk)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    crc, chunk, body = 0, b"\x00" * (1 << 20), bytearray()
    for _ in range(declared // len(chunk)):
        body += comp.compress(chunk)
        crc = zlib.crc32(chunk, crc)
    body += comp.flush()
    name = b"zeros.bin"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), declared,
                        len(name), 0) + name
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(body),
                          declared, len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local) + len(body), 0)
    path.write_bytes(local + body + central + end)


def gzip_bomb(path: Path, size: int = 1 << 30) -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\x00" * (1 << 20)
    with open(path, "wb") as fh:
        for _ in range(size // len(chunk)):
            fh.write(comp.compress(chunk))
        fh.write(comp.flush())


def pdf_stream_bomb(path: Path, size: int = 1 << 30) -> None:
    """A one-page PDF whose content stream inflates to ``size`` bytes of spaces."""
    comp = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    body = b"".join(comp.compress(chunk) for _ in range(size // len(chunk))) + comp.flush()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [3 0 R] >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
            f"<< /Length {len(body)} /Filter /FlateDecode >>\nstream\n".encode() + body + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for n, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))


def huge_png(path: Path, side: int = 30000) -> None:
    """A PNG header declaring side x side pixels (only a sliver of data follows)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                     chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + chunk(b"IEND", b""))


LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                    for i in range(1, 10))
          + ']>')


def billion_laughs_docx(path: Path) -> None:
    path.write_bytes(docx_bytes("laughs", [("", "&lol9;")], [], [], "x", body_xml=LAUGHS)
                     .replace(b"&amp;lol9;", b"&lol9;"))


def nested_zip(path: Path, depth: int = 12) -> None:
    data = b"the innermost file\n"
    name = "inner.txt"
    for level in range(depth):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(name, data)
        data, name = buf.getvalue(), f"level{level}.zip"
    path.write_bytes(data)


def make_hostile(folder: Path) -> dict[str, str]:
    """Every hostile file of issue 21; returns name -> the reason its row must carry."""
    folder.mkdir(parents=True, exist_ok=True)
    zip_bomb(folder / "bomb.zip")
    gzip_bomb(folder / "bomb.gz")
    pdf_stream_bomb(folder / "stream_bomb.pdf")
    huge_png(folder / "huge.png")
    billion_laughs_docx(folder / "laughs.docx")
    nested_zip(folder / "nested.zip")
    whole = pdf_bytes(REPORT_PAGES, {"Title": "Truncated"})
    (folder / "truncated.pdf").write_bytes(whole[: len(whole) // 3])
    (folder / "random.pdf").write_bytes(b"%PDF-1.7\n" + random.Random(21).randbytes(20000))
    return {"bomb.zip": "done", "bomb.gz": "limit", "stream_bomb.pdf": "any",
            "huge.png": "limit", "laughs.docx": "limit", "nested.zip": "done",
            "truncated.pdf": "any", "random.pdf": "corrupt"}


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).resolve().parent.parent / "resources" / "samples" / "documents"
    for p in make_samples(target):
        print(p)
