"""Reading documents: PDF, Office and OpenDocument, e-mail, e-books, images, audio,
compressed files, archives and SQLite, by what their bytes say (``scan/magic.py``),
one extractor module per family, bounded in size, time and memory (``guard.py``)."""

# Part of what decides whether an earlier run's results are reused: a file analyzed
# before a format could be read (a PDF stored as raw syntax, a DOCX skipped as binary)
# is read again by the first run of a newer reader. 3: every file has a format (PDF,
# Python, INI, ...) and the language is the natural one only; the migration gave older
# results a format from their name, the content decides it when they are read again.
READER_VERSION = 3
