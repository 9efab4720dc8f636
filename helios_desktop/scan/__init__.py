"""Finding files and reading them: the scanner, include/exclude globs, the reader, kind detection."""
