"""Which module reads which format: a detected kind -> its extractor, imported lazily
(calibre's input plugins, Tika's parser registry). Adding a format is one module and one
line here."""

from __future__ import annotations

import importlib

from ..scan.magic import Format
from .base import Corrupt, ExtractError, Extracted, ExtractOptions, LimitHit
from .guard import guarded

EXTRACTORS: dict[str, str] = {
    "pdf": "pdf",
    "docx": "ooxml", "xlsx": "ooxml", "pptx": "ooxml",
    "odt": "opendoc", "ods": "opendoc", "odp": "opendoc",
    "rtf": "rtf",
    "epub": "epub",
    "eml": "mail", "msg": "mail", "mbox": "mail",
    "image": "image",
    "audio": "media", "video": "media",
    "gzip": "compressed", "bzip2": "compressed", "xz": "compressed",
    "zip": "archive", "tar": "archive",
    "sqlite": "sqlite",
}


def extractor(kind: str):
    """The module that reads ``kind`` (imported on first use: a worker that meets no PDF
    never loads PDFium)."""
    return importlib.import_module(f".{EXTRACTORS[kind]}", __package__)


def run(fmt: Format, data: bytes, path: bytes, options: ExtractOptions) -> Extracted:
    """Extract under the deadline and memory bound; every failure is a typed
    ``ExtractError`` (a parser's own exception becomes ``Corrupt`` with its message)."""
    module = extractor(fmt.kind)
    with guarded(options.deadline_s, options.memory_limit):
        try:
            return module.extract(data, path, options, fmt.kind)
        except ExtractError:
            raise
        except MemoryError:
            raise LimitHit(f"memory: more than {options.memory_limit >> 20} MiB while reading "
                           "(extract_memory_limit)") from None
        except RecursionError:
            raise LimitHit("nesting: the document nests deeper than the parser follows") from None
        except Exception as exc:  # the parser refused the file: its words are kept
            raise Corrupt(f"{exc.__class__.__name__}: {exc}"[:500]) from None
