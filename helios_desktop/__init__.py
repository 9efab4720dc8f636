"""Helios Desktop: analyze every file in a folder with a local language model."""

__version__ = "0.1.0"
