"""The parts of a zip-based document (OOXML, OpenDocument, EPUB), read safely: each
member through a size-capped stream, and its XML with a streaming parser that refuses
DTDs and entity declarations (billion laughs, external entities)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator

from .base import CappedReader, Corrupt, ExtractOptions, LimitHit

MEMBER_CAP = 32 << 20  # bytes of one XML part, uncompressed


class Parts:
    """An open zip document; ``xml(name)`` streams one part's elements."""

    def __init__(self, fileobj, options: ExtractOptions):
        try:
            self.zf = zipfile.ZipFile(fileobj)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise Corrupt(f"not a readable zip: {exc}") from None
        self.options = options
        self.names = set(self.zf.namelist())

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def _open(self, name: str):
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise Corrupt(f"the part {name} is missing") from None
        cap = min(MEMBER_CAP, self.options.max_decompressed)
        if info.file_size > cap:
            raise LimitHit(f"size: the part {name} declares {info.file_size} bytes, more than "
                           f"{cap} (decompression bound)")
        if info.compress_size and info.file_size / info.compress_size > max(
                self.options.max_ratio, 1000) and info.file_size > (1 << 20):
            raise LimitHit(f"ratio: the part {name} inflates {info.file_size // info.compress_size}:1 "
                           "(decompression bound)")
        try:
            return CappedReader(self.zf.open(info), cap, f"the part {name}")
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
            # RuntimeError: an encrypted member
            if "encrypted" in str(exc).lower() or "password" in str(exc).lower():
                from .base import Encrypted

                raise Encrypted(f"the part {name} is encrypted") from None
            raise Corrupt(f"the part {name}: {exc}") from None

    def read(self, name: str) -> bytes:
        with self._open(name) as fh:
            try:
                return fh.read()
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                raise Corrupt(f"the part {name}: {exc}") from None

    def xml(self, name: str, events=("end",)) -> Iterator[tuple[str, object]]:
        """(event, element) pairs of the part, streamed; entities and DTDs refused."""
        from xml.etree.ElementTree import ParseError

        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import iterparse

        with self._open(name) as fh:
            try:
                yield from iterparse(fh, events=events, forbid_dtd=True)
            except DefusedXmlException as exc:
                raise LimitHit(f"xml: {name} declares a DTD or entities, refused "
                               f"(billion-laughs and external-entity defence): {exc}") from None
            except ParseError as exc:
                raise Corrupt(f"{name} is not well-formed XML: {exc}") from None
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                raise Corrupt(f"the part {name}: {exc}") from None


def local(tag: str) -> str:
    """'{namespace}name' -> 'name'."""
    return tag.rsplit("}", 1)[-1]


def attr(elem, name: str) -> str:
    """An attribute by local name, whatever its namespace."""
    for key, value in elem.attrib.items():
        if local(key) == name:
            return value
    return ""


def text_of(elem) -> str:
    return "".join(elem.itertext())


_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def rid(elem) -> str:
    """The relationship id (r:id) of an OOXML element: not its plain ``id``."""
    return elem.get(_R + "id", "")


def iso_date(value: str) -> str:
    """'2025-03-04T09:15:00Z' -> '2025-03-04 09:15:00' (W3CDTF as people read it)."""
    value = value.strip()
    if len(value) >= 19 and value[10] == "T":
        return value[:10] + " " + value[11:19]
    return value
