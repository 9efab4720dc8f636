"""Reading documents: PDF, Office and OpenDocument, e-mail, e-books, images, audio,
compressed files, archives and SQLite, by what their bytes say (``scan/magic.py``),
one extractor module per family, bounded in size, time and memory (``guard.py``)."""

# Part of what decides whether an earlier run's results are reused: a file analyzed
# before a format could be read (a PDF stored as raw syntax, a DOCX skipped as binary)
# is read again by the first run of a newer reader.
READER_VERSION = 2
