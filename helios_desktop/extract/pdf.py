"""PDF through pypdfium2 (PDFium): text of the first pages up to the budget, the
document information dictionary, the page count and the declared language.

An empty user password is tried (PDFium does so when none is given); a real one ends
``encrypted``. A PDF whose pages carry no text is a scan: it is read from its metadata
("scanned, 12 pages, no text layer"), or with ``ocr: tesseract`` through Debian's
tesseract where it is installed.
"""

from __future__ import annotations

import ctypes
import re

from .base import Corrupt, Encrypted, Extracted, ExtractOptions, clip

_KEYS = {"Title": "title", "Author": "authors", "Subject": "subject", "Keywords": "keywords",
         "Creator": "creator", "Producer": "producer", "CreationDate": "created",
         "ModDate": "modified"}
_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?")
PAGES_CHECKED_FOR_TEXT = 8  # a scan is told by its first pages carrying no text


def pdf_date(value: str) -> str:
    """'D:20240131120000Z' -> '2024-01-31 12:00:00' (as much as is given)."""
    m = _DATE.match(value or "")
    if not m:
        return value or ""
    y, mo, d, h, mi, s = m.groups()
    out = y + (f"-{mo}" if mo else "") + (f"-{d}" if d else "")
    if h:
        out += f" {h}:{mi or '00'}:{s or '00'}"
    return out


def _language(pdfium, pdf) -> str:
    fn = getattr(pdfium.raw, "FPDFCatalog_GetLanguage", None)
    if fn is None:
        return ""
    try:
        size = fn(pdf, None, 0)
        if size <= 2 or size > 256:
            return ""
        buf = (ctypes.c_ushort * (size // 2))()
        fn(pdf, buf, size)
        return bytes(buf)[:size - 2].decode("utf-16-le", "replace")
    except Exception:  # an older PDFium without it: the language stays undeclared
        return ""


_STREAM = re.compile(rb"stream\r?\n")
CHECKED_STREAM = 16 << 10  # smaller streams cannot inflate past the bound


def check_streams(data: bytes, options: ExtractOptions) -> None:
    """``LimitHit`` for a content stream that inflates past the bounds (a PDF bomb).

    PDFium inflates a page's content stream whole to read its text, and aborts the
    process when memory runs out; so large Flate streams other than images (which text
    extraction never decodes) are inflated here first, bounded by size and ratio."""
    from .base import bounded_inflate, output_limit
    import zlib

    for match in _STREAM.finditer(data):
        start = match.end()
        end = data.find(b"endstream", start)
        if end < 0 or end - start < CHECKED_STREAM:
            continue
        head = data[max(0, match.start() - 1024):match.start()]
        head = head[head.rfind(b" obj"):]
        if b"/FlateDecode" not in head or b"/Image" in head:
            continue
        try:
            bounded_inflate(zlib.decompressobj(), data[start:end], output_limit(
                options, end - start), "a content stream")
        except zlib.error:
            continue  # PDFium judges a broken stream itself


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str = "") -> Extracted:
    import pypdfium2 as pdfium

    check_streams(data, options)
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise Encrypted("a password is needed to open it (the empty password was tried)") from None
        raise Corrupt(f"PDFium: {message}") from None
    try:
        pages = len(pdf)
        info = {}
        for key, value in pdf.get_metadata_dict(skip_empty=True).items():
            name = _KEYS.get(key)
            if name and value.strip():
                info[name] = pdf_date(value) if name in ("created", "modified") else value.strip()
        if "authors" in info:
            info["authors"] = [a.strip() for a in re.split(r"[;,]| and ", info["authors"]) if a.strip()]
        meta = {**info, "pages": pages}
        language = _language(pdfium, pdf)
        if language:
            meta["language"] = language
        texts, length, read = [], 0, 0
        empty_pages = 0
        for index in range(pages):
            if length >= options.max_chars:
                break
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
            read += 1
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            if not text.strip():
                empty_pages += 1
                if index + 1 >= PAGES_CHECKED_FOR_TEXT and empty_pages == read:
                    break
            texts.append(text.strip())
            length += len(text)
        notes = []
        body = "\n\n".join(t for t in texts if t)
        if not body.strip():
            meta["text_layer"] = False
            notes.append(f"scanned, {pages} page{'s' if pages != 1 else ''}, no text layer")
            if options.ocr == "tesseract":
                from .ocr import ocr_pages

                body, note = ocr_pages(pdf, min(pages, 3), options)
                notes.append(note)
        else:
            meta["text_layer"] = True
            if read < pages:
                notes.append(f"text of the first {read} of {pages} pages")
        return Extracted(label="PDF document", text=clip(body, options.max_chars), meta=meta,
                         notes=notes)
    finally:
        pdf.close()
