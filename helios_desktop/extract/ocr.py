"""Text recognition for scanned PDFs (``ocr: tesseract``): the first pages rendered by
PDFium and read by Debian's tesseract (Apache-2.0), run as a program with a deadline.
Off by default; where tesseract is missing the scan is described from its metadata."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from .base import ExtractOptions

SCALE = 300 / 72  # 300 dpi, what tesseract reads best


def ocr_pages(pdf, pages: int, options: ExtractOptions) -> tuple[str, str]:
    """(text, note) of the first ``pages`` pages."""
    tool = shutil.which("tesseract")
    if tool is None:
        return "", "ocr: tesseract is not installed (apt-get install tesseract-ocr)"
    texts = []
    with tempfile.TemporaryDirectory(prefix="helios-ocr-") as tmp:
        for index in range(pages):
            page = pdf[index]
            try:
                image = page.render(scale=SCALE, grayscale=True).to_pil()
            finally:
                page.close()
            png = os.path.join(tmp, f"p{index}.png")
            image.save(png)
            try:
                out = subprocess.run([tool, png, "stdout"], capture_output=True, text=True,
                                     timeout=max(5.0, options.deadline_s / 2))
            except subprocess.TimeoutExpired:
                return "\n\n".join(texts), f"ocr: page {index + 1} took too long; stopped"
            texts.append(out.stdout.strip())
    text = "\n\n".join(t for t in texts if t)
    return text, f"text recognised by tesseract on {pages} page{'s' if pages != 1 else ''}"
