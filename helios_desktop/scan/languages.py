"""The natural languages Helios knows by name: a language field holds one of these or ''."""

from __future__ import annotations

import functools

from .kinds import known_languages

# Natural languages a model may name beyond the ones the stop words tell apart, and the
# ISO 639-1 codes small models answer with ("en"); stored under their names.
_MORE_NATURAL = ("Portuguese", "Polish", "Czech", "Swedish", "Danish", "Norwegian",
                 "Finnish", "Russian", "Ukrainian", "Greek", "Turkish", "Arabic", "Hebrew",
                 "Chinese", "Japanese", "Korean", "Hindi", "Latin")
_CODES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
          "nl": "Dutch", "pt": "Portuguese", "pl": "Polish", "cs": "Czech", "sv": "Swedish",
          "da": "Danish", "no": "Norwegian", "fi": "Finnish", "ru": "Russian",
          "uk": "Ukrainian", "el": "Greek", "tr": "Turkish", "ar": "Arabic", "he": "Hebrew",
          "zh": "Chinese", "ja": "Japanese", "ko": "Korean", "hi": "Hindi"}


@functools.cache
def _vocabulary() -> dict[str, str]:
    names = known_languages() | set(_MORE_NATURAL)
    table = {name.lower(): name for name in names}
    table.update(_CODES)
    return table


def natural_name(language) -> str | None:
    """The stored name of a natural language ("en", " english " -> "English"), or None
    for anything else: a programming or data language ("Python", "INI") is a format."""
    raw = language.strip() if isinstance(language, str) else ""
    return _vocabulary().get(raw.lower())
