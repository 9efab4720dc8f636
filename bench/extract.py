"""Reading documents: PDF text extraction against pdftotext, and the evidence-only
pipeline on a mixed document corpus.

    python -m bench extract [--repeat 3] [--copies 40] [--pdf-pages 40]
    python -m bench make-samples [FOLDER]

PDF: every page of every file, by pypdfium2 in this process and by ``pdftotext``
(poppler-utils, GPL: a reference tool run as a program, never imported or shipped) as
a subprocess per file, on the same files in the same invocation; pages/s, median of
``--repeat``. The files: the PDFs in /usr/share/doc and PDFs written here (text pages).
Pipeline, on copies of resources/samples/documents, the real PDFs and Debian changelogs:
what a worker does per file besides inference (read, extract, evidence for every field)
in one process; and ``helios analyze --set model_fields=[]`` end to end, where the
model is still loaded and run for each file (the tiny model here), so that figure is
bounded by inference. Files/s, median of ``--repeat``.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.harness import REPO, TINY, median, report, run_helios, spread

WORDS = ("greenhouse humidity sensor reading valve schedule report budget invoice depot roof "
         "panel volunteer garden harvest compost delivery contract payment summary quarter").split()


def _text_pdf(pages: int, seed: int) -> bytes:
    from bench.documents import pdf_bytes

    rnd = random.Random(seed)
    content = [[" ".join(rnd.choice(WORDS) for _ in range(12)) for _ in range(45)]
               for _ in range(pages)]
    return pdf_bytes(content, {"Title": f"Generated report {seed}", "Author": "Helios bench"})


def pdf_corpus(folder: Path, made: int, pages: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = sorted(Path("/usr/share/doc").rglob("*.pdf"))
    for i in range(made):
        path = folder / f"generated_{i}.pdf"
        path.write_bytes(_text_pdf(pages, i))
        paths.append(path)
    return paths


def pdfium_all_pages(paths: list[Path]) -> tuple[int, float, int]:
    """(pages, seconds, characters): every page's text, as the extractor reads it."""
    import pypdfium2 as pdfium

    pages = chars = 0
    started = time.perf_counter()
    for path in paths:
        pdf = pdfium.PdfDocument(path.read_bytes())
        for page in pdf:
            textpage = page.get_textpage()
            chars += len(textpage.get_text_range())
            textpage.close()
            page.close()
            pages += 1
        pdf.close()
    return pages, time.perf_counter() - started, chars


def pdftotext_all_pages(paths: list[Path], tool: str) -> tuple[float, int]:
    started = time.perf_counter()
    chars = 0
    for path in paths:
        out = subprocess.run([tool, "-enc", "UTF-8", str(path), "-"], capture_output=True,
                             check=True).stdout
        chars += len(out.decode("utf-8", "replace"))
    return time.perf_counter() - started, chars


def mixed_corpus(folder: Path, copies: int) -> int:
    """Copies of every document sample, the real PDFs and up to 200 Debian changelogs."""
    from bench.document_samples import make_samples

    folder.mkdir(parents=True, exist_ok=True)
    make_samples(folder / "samples")
    samples = sorted((folder / "samples").iterdir())
    for i in range(copies):
        target = folder / f"copy{i:03d}"
        target.mkdir()
        for path in samples:
            shutil.copy(path, target / path.name)
            # each copy is its own file: a byte changed keeps the format readable
            if path.suffix in (".txt", ".eml"):
                (target / path.name).write_bytes(path.read_bytes() + f"\n{i}\n".encode())
    for path in sorted(Path("/usr/share/doc").rglob("*.pdf")):
        shutil.copy(path, folder / path.name)
    logs = folder / "changelogs"
    logs.mkdir()
    for i, path in enumerate(sorted(Path("/usr/share/doc").rglob("changelog.Debian.gz"))[:200]):
        (logs / path.parent.name).mkdir()
        shutil.copy(path, logs / path.parent.name / path.name)
    return sum(1 for p in folder.rglob("*") if p.is_file())


def evidence_rate(folder: Path) -> tuple[int, float]:
    """(files, seconds) of what a worker does for each file besides inference: read it
    (extraction included) and let the evidence fill every field, in this one process."""
    import os

    from helios_desktop.analysis.evidence import evidence_answer
    from helios_desktop.analysis.schema import load_schema
    from helios_desktop.extract.read import read_file
    from helios_desktop.records import FileTask
    from helios_desktop.scan.reader import Skip

    schema = load_schema(None)
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    started = time.perf_counter()
    for path in paths:
        try:
            doc = read_file(FileTask(os.fsencode(path), -1, -1), 10 << 20)
        except Skip:
            continue
        evidence_answer(doc, schema, "not asked", frozenset())
    return len(paths), time.perf_counter() - started


def cmd_extract(args) -> None:
    tool = shutil.which("pdftotext")
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        paths = pdf_corpus(Path(tmp) / "pdf", args.pdf_files, args.pdf_pages)
        ours, theirs = [], []
        pages = chars_ours = chars_theirs = 0
        for _ in range(args.repeat):
            pages, seconds, chars_ours = pdfium_all_pages(paths)
            ours.append(pages / seconds)
            if tool:
                seconds, chars_theirs = pdftotext_all_pages(paths, tool)
                theirs.append(pages / seconds)
        folder = Path(tmp) / "mixed"
        files = mixed_corpus(folder, args.copies)
        rates, outcomes, inproc = [], {}, []
        for r in range(args.repeat):
            n, seconds = evidence_rate(folder)
            inproc.append(n / seconds)
        for r in range(args.repeat if not args.no_run else 0):
            wall, fin = run_helios(folder, Path(args.model), Path(tmp) / f"m{r}.db",
                                   "--set", "model_fields=[]", "--fresh")
            rates.append(files / wall)
            outcomes = fin.get("counts", {})
    rows = [("PDF files", len(paths)), ("PDF pages", pages),
            ("pypdfium2 pages/s", spread(ours)),
            ("pdftotext pages/s", spread(theirs) if theirs else "pdftotext not installed"),
            ("ratio pypdfium2/pdftotext", f"{median(ours) / median(theirs):.2f}" if theirs else "-"),
            ("characters (pypdfium2, pdftotext)", f"{chars_ours}, {chars_theirs}"),
            ("mixed corpus files", files),
            ("read + evidence files/s (one process)", spread(inproc)),
            ("helios analyze files/s (tiny model, model_fields=[])",
             spread(rates) if rates else "not run (--no-run)"),
            ("outcomes", outcomes)]
    report("extract", rows, {"pdf_files": len(paths), "pdf_pages": pages,
                             "pypdfium2_pages_per_s": ours, "pdftotext_pages_per_s": theirs,
                             "mixed_files": files, "pipeline_files_per_s": rates,
                             "read_evidence_files_per_s": inproc,
                             "outcomes": outcomes})


def cmd_make_samples(args) -> None:
    from bench.document_samples import make_samples

    folder = Path(args.folder) if args.folder else REPO / "resources" / "samples" / "documents"
    for path in make_samples(folder):
        print(path)


def add_parsers(sub) -> None:
    p = sub.add_parser("extract", help="PDF pages/s against pdftotext; evidence-only files/s on documents")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--copies", type=int, default=40, help="copies of the document samples")
    p.add_argument("--pdf-files", type=int, default=10, help="PDFs written here, besides the real ones")
    p.add_argument("--pdf-pages", type=int, default=40)
    p.add_argument("--model", default=str(TINY))
    p.add_argument("--no-run", action="store_true", help="skip the helios analyze runs")
    p.add_argument("--tmp", default=None)
    p.set_defaults(func=cmd_extract)
    p = sub.add_parser("make-samples", help="write resources/samples/documents (or FOLDER)")
    p.add_argument("folder", nargs="?")
    p.set_defaults(func=cmd_make_samples)
