"""Documents made here, byte by byte or with the standard library and Pillow: the samples
in resources/samples/documents (``python -m bench make-samples``), the mixed corpus of
``python -m bench extract``, and the tests' real files. Nothing is copied from elsewhere."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape


# -- PDF ------------------------------------------------------------------------------------

def _pdf_string(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def text_picture(lines: list[str], width: int = 1700, line_height: int = 90) -> tuple[int, int, bytes]:
    """(width, height, grey pixels) of ``lines`` drawn in black on white: a scanned page."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("L", (width, line_height * (len(lines) + 1)), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=56)
    for i, line in enumerate(lines):
        draw.text((60, 40 + i * line_height), line, fill=0, font=font)
    return img.width, img.height, img.tobytes()


def pdf_bytes(pages: list, info: dict[str, str] | None = None,
              lang: str = "en-GB", compress: bool = True) -> bytes:
    """A PDF with one page per entry: lines of text in Helvetica, or None for a page that
    carries only an image (a scan, no text layer)."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes, extra: str = "") -> bytes:
        if compress:
            data = zlib.compress(data)
            extra += " /Filter /FlateDecode"
        return f"<< /Length {len(data)}{extra} >>\nstream\n".encode() + data + b"\nendstream"

    catalog = add(b"")  # filled in below
    pages_obj = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    kids = []
    for lines in pages:
        if lines is None or isinstance(lines, tuple):
            # a scan: a grey pattern, or (width, height, pixels) of an 8-bit grey picture
            width, height, pixels = lines or (48, 64, bytes((x * 7 + y * 3) % 256 for y in range(64)
                                                            for x in range(48)))
            image = add(stream(pixels, f" /Type /XObject /Subtype /Image /Width {width} /Height {height} "
                                       "/ColorSpace /DeviceGray /BitsPerComponent 8"))
            shown_h = min(640, round(480 * height / width))  # keep the picture's aspect
            content = add(stream(f"q 480 0 0 {shown_h} 60 {720 - shown_h} cm /Im1 Do Q".encode()))
            resources = f"<< /XObject << /Im1 {image} 0 R >> >>"
        else:
            ops = ["BT", "/F1 12 Tf", "72 760 Td", "15 TL"]
            for line in lines:
                ops.append(f"{_pdf_string(line)} Tj T*")
            ops.append("ET")
            content = add(stream("\n".join(ops).encode("latin-1", "replace")))
            resources = f"<< /Font << /F1 {font} 0 R >> >>"
        kids.append(add(f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 612 792] "
                        f"/Resources {resources} /Contents {content} 0 R >>".encode()))
    objects[pages_obj - 1] = (f"<< /Type /Pages /Count {len(kids)} /Kids ["
                              + " ".join(f"{k} 0 R" for k in kids) + "] >>").encode()
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R /Lang ({lang}) >>".encode()
    info_obj = None
    if info:
        info_obj = add(("<< " + " ".join(f"/{k} {_pdf_string(v)}" for k, v in info.items())
                        + " >>").encode("latin-1", "replace"))
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objects) + 1} /Root {catalog} 0 R"
    if info_obj:
        trailer += f" /Info {info_obj} 0 R"
    out += f"trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


REPORT_PAGES = [
    ["Greenhouse Energy Report 2025", "",
     "Summary: heating the north greenhouse used 18 percent less gas",
     "after the thermal screens were installed in March.",
     "The findings below compare monthly readings with 2024."],
    ["Findings", "January: 4,210 kWh (2024: 5,130 kWh)", "February: 3,980 kWh",
     "Recommendation: install screens in the south greenhouse as well.",
     "Contact: Ingrid Solberg, ingrid.solberg@gronnhus.no"],
]


def encrypt_pdf(src: Path, dst: Path, password: str) -> bool:
    """qpdf (Apache-2.0, Debian's qpdf) encrypts it with AES-256; False where it is missing."""
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        return False
    subprocess.run([qpdf, "--encrypt", password, password + "-owner", "256", "--",
                    str(src), str(dst)], check=True)
    return True


# -- zip-based documents -----------------------------------------------------------------------

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _core(title: str, creator: str, created: str = "2025-03-04T09:15:00Z") -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:title>{escape(title)}</dc:title><dc:creator>{escape(creator)}</dc:creator>'
            f'<dc:language>en-GB</dc:language>'
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{created}</dcterms:modified>'
            '</cp:coreProperties>')


def _app(application: str = "Helios sample writer", **counts: int) -> str:
    more = "".join(f"<{k}>{v}</{k}>" for k, v in counts.items())
    return ('<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/extended-properties"><Application>{application}</Application>{more}</Properties>')


def _rels(*targets: tuple[str, str, str]) -> str:
    body = "".join(f'<Relationship Id="{i}" Type="{t}" Target="{p}"/>' for i, t, p in targets)
    return f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}">{body}</Relationships>'


def _types(*overrides: tuple[str, str]) -> str:
    body = "".join(f'<Override PartName="{p}" ContentType="{c}"/>' for p, c in overrides)
    return ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            f'ContentType="application/xml"/>{body}</Types>')


def _zip(parts: dict[str, str | bytes], stored_first: str | None = None) -> bytes:
    buf = io.BytesIO()
    stamp = (2025, 1, 1, 0, 0, 0)  # fixed, so the script makes the same bytes each time
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if stored_first:
            zf.writestr(zipfile.ZipInfo(stored_first, stamp), parts[stored_first], zipfile.ZIP_STORED)
        for name, data in parts.items():
            if name != stored_first:
                zf.writestr(zipfile.ZipInfo(name, stamp), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


_ROOT_RELS = _rels(("rId1", f"{R}/officeDocument", "{main}"),
                   ("rId2", "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
                    "docProps/core.xml"),
                   ("rId3", f"{R}/extended-properties", "docProps/app.xml"))


def _wp(text: str, style: str = "") -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f'<w:p>{ppr}<w:r><w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'


def docx_bytes(title: str, paragraphs: list[tuple[str, str]], table: list[list[str]],
               comments: list[tuple[str, str]], creator: str, body_xml: str = "") -> bytes:
    """A Word document: (style, text) paragraphs, one table, comments by their authors."""
    body = "".join(_wp(text, style) for style, text in paragraphs)
    rows = "".join("<w:tr>" + "".join(f"<w:tc>{_wp(c)}</w:tc>" for c in row) + "</w:tr>" for row in table)
    body += f"<w:tbl>{rows}</w:tbl>" if table else ""
    body += '<w:p><w:ins w:id="9" w:author="Tomasz Nowak"><w:r><w:t>Approved.</w:t></w:r></w:ins></w:p>'
    document = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{body_xml}'
                f'<w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>')
    notes = "".join(f'<w:comment w:id="{i}" w:author="{escape(a)}">{_wp(t)}</w:comment>'
                    for i, (a, t) in enumerate(comments))
    return _zip({
        "[Content_Types].xml": _types(("/word/document.xml", "application/vnd.openxmlformats-officedocument."
                                       "wordprocessingml.document.main+xml")),
        "_rels/.rels": _ROOT_RELS.replace("{main}", "word/document.xml"),
        "word/document.xml": document,
        "word/comments.xml": f'<?xml version="1.0" encoding="UTF-8"?><w:comments xmlns:w="{W}">{notes}</w:comments>',
        "docProps/core.xml": _core(title, creator),
        "docProps/app.xml": _app(Pages=1),
    })


def _cell(ref: str, value) -> str:
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def _package(parts: dict, main: str, main_type: str, title: str, creator: str, **app) -> bytes:
    """An OOXML package of ``parts``: its content types and root relations naming
    ``main``, the core and app properties, zipped."""
    parts["[Content_Types].xml"] = _types(
        (f"/{main}", f"application/vnd.openxmlformats-officedocument.{main_type}"))
    parts["_rels/.rels"] = _ROOT_RELS.replace("{main}", main)
    parts["docProps/core.xml"] = _core(title, creator)
    parts["docProps/app.xml"] = _app(**app)
    return _zip(parts)


def xlsx_bytes(sheets: dict[str, list[list]], title: str, creator: str) -> bytes:
    S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts: dict[str, str | bytes] = {}
    entries, rels = [], []
    for n, (name, rows) in enumerate(sheets.items(), 1):
        xml_rows = "".join(f'<row r="{r}">' + "".join(_cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(row))
                           + "</row>" for r, row in enumerate(rows, 1))
        parts[f"xl/worksheets/sheet{n}.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{S}">'
                                                f'<sheetData>{xml_rows}</sheetData></worksheet>')
        entries.append(f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>')
        rels.append((f"rId{n}", f"{R}/worksheet", f"worksheets/sheet{n}.xml"))
    parts["xl/workbook.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{S}" xmlns:r="{R}">'
                                f'<sheets>{"".join(entries)}</sheets></workbook>')
    parts["xl/_rels/workbook.xml.rels"] = _rels(*rels)
    return _package(parts, "xl/workbook.xml", "spreadsheetml.sheet.main+xml", title, creator)


def pptx_bytes(slides: list[tuple[str, list[str], str]], title: str, creator: str) -> bytes:
    """A deck: (title, bullet lines, speaker notes) per slide."""
    A = "http://schemas.openxmlformats.org/drawingml/2006/main"
    P = "http://schemas.openxmlformats.org/presentationml/2006/main"

    def shape(kind: str, lines: list[str]) -> str:
        paras = "".join(f"<a:p><a:r><a:t>{escape(line)}</a:t></a:r></a:p>" for line in lines)
        return (f'<p:sp><p:nvSpPr><p:cNvPr id="1" name="s"/><p:cNvSpPr/><p:nvPr><p:ph type="{kind}"/>'
                f'</p:nvPr></p:nvSpPr><p:txBody>{paras}</p:txBody></p:sp>')

    def page(root: str, shapes: str) -> str:
        return (f'<?xml version="1.0" encoding="UTF-8"?><p:{root} xmlns:a="{A}" xmlns:p="{P}" xmlns:r="{R}">'
                f'<p:cSld><p:spTree>{shapes}</p:spTree></p:cSld></p:{root}>')

    parts: dict[str, str | bytes] = {}
    ids, rels = [], []
    for n, (heading, bullets, notes) in enumerate(slides, 1):
        parts[f"ppt/slides/slide{n}.xml"] = page("sld", shape("title", [heading]) + shape("body", bullets))
        parts[f"ppt/slides/_rels/slide{n}.xml.rels"] = _rels(
            ("rId1", f"{R}/notesSlide", f"../notesSlides/notesSlide{n}.xml"))
        parts[f"ppt/notesSlides/notesSlide{n}.xml"] = page("notes", shape("sldImg", []) + shape("body", [notes]))
        ids.append(f'<p:sldId id="{255 + n}" r:id="rId{n}"/>')
        rels.append((f"rId{n}", f"{R}/slide", f"slides/slide{n}.xml"))
    parts["ppt/presentation.xml"] = (f'<?xml version="1.0" encoding="UTF-8"?><p:presentation xmlns:p="{P}" '
                                     f'xmlns:r="{R}"><p:sldIdLst>{"".join(ids)}</p:sldIdLst></p:presentation>')
    parts["ppt/_rels/presentation.xml.rels"] = _rels(*rels)
    return _package(parts, "ppt/presentation.xml", "presentationml.presentation.main+xml", title,
                    creator, Slides=len(slides))


def odt_bytes(title: str, creator: str, headings_and_paras: list[tuple[str, str]]) -> bytes:
    O = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
         'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
         'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
         'xmlns:dc="http://purl.org/dc/elements/1.1/"')
    body = "".join(f'<text:h text:outline-level="1">{escape(t)}</text:h>' if kind == "h"
                   else f"<text:p>{escape(t)}</text:p>" for kind, t in headings_and_paras)
    mime = "application/vnd.oasis.opendocument.text"
    return _zip({
        "mimetype": mime,
        "META-INF/manifest.xml": ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                                  '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry '
                                  f'manifest:full-path="/" manifest:media-type="{mime}"/></manifest:manifest>'),
        "content.xml": (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {O}>'
                        f'<office:body><office:text>{body}</office:text></office:body></office:document-content>'),
        "meta.xml": (f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {O}><office:meta>'
                     f'<dc:title>{escape(title)}</dc:title><meta:initial-creator>{escape(creator)}'
                     '</meta:initial-creator><meta:creation-date>2025-01-20T08:00:00</meta:creation-date>'
                     '<dc:language>en-GB</dc:language><meta:generator>Helios sample writer</meta:generator>'
                     '<meta:document-statistic meta:page-count="1"/></office:meta></office:document-meta>'),
    }, stored_first="mimetype")


def epub_bytes(title: str, author: str, chapters: list[tuple[str, str]]) -> bytes:
    items = "".join(f'<item id="c{i}" href="ch{i}.xhtml" media-type="application/xhtml+xml"/>'
                    for i in range(len(chapters)))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
    parts: dict[str, str | bytes] = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:'
                                   'tc:opendocument:xmlns:container"><rootfiles><rootfile full-path='
                                   '"OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                                   '</rootfiles></container>'),
        "OEBPS/content.opf": ('<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
                              '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
                              f'<dc:title>{escape(title)}</dc:title><dc:creator>{escape(author)}</dc:creator>'
                              '<dc:language>en</dc:language><dc:date>2024-11-02</dc:date></metadata>'
                              f'<manifest>{items}</manifest><spine>{spine}</spine></package>'),
    }
    for i, (heading, text) in enumerate(chapters):
        parts[f"OEBPS/ch{i}.xhtml"] = ('<?xml version="1.0"?><!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
                                       f'<head><title>{escape(heading)}</title></head><body><h1>{escape(heading)}'
                                       f'</h1><p>{escape(text)}</p></body></html>')
    return _zip(parts, stored_first="mimetype")
