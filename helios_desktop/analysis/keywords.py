"""Keywords from the file alone: YAKE (statistical, per document, no corpus, no model).

YAKE was chosen over a TF-IDF by measurement (docs/QUALITY.md): a TF-IDF needs the
run's whole corpus before the first file can be scored, which a worker holding one
batch does not have, and scikit-learn's vectoriser brings SciPy with it. YAKE scores
each document on its own statistics in a few milliseconds.

What YAKE reads is chosen per kind: prose is read as written; for code and
structured files it reads the evidence (comments, names, sections, columns)
first, so identifiers and column names can win over punctuation-heavy syntax.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .quality import _GENERIC, FileVocabulary, words

MAX_KEYWORDS = 5
MAX_CHARS = 40
_YAKE_LANG = {"English": "en", "German": "de", "French": "fr", "Spanish": "es",
              "Italian": "it", "Dutch": "nl"}
_NOISE = re.compile(r"^[\W\d_]+$|^(?:https?|www)\b|[{}<>=;\\]|^\S{30,}$")
_IDENT = re.compile(r"\b([A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)+|[a-z]+[A-Z][A-Za-z0-9]*|"
                    r"[A-Z][a-z]+[A-Z][A-Za-z0-9]*)\b")


@lru_cache(maxsize=8)
def _extractor(lang: str, ngram: int):
    import yake  # imported late: workers that never need it do not pay for it

    return yake.KeywordExtractor(lan=lang, n=ngram, dedup_lim=0.7, top=20)


# Words the evidence sentences use to frame what they name ("columns date, region"):
# trimmed from the ends of a candidate so the named thing is what remains.
_FRAME = set("""
sections section columns column services blocks block keys key fields field records record
elements element root holds holding table rows row frequent defines declares settings
targets target jobs job stages exports aliases functions sources cues events event
json object array xml document log lines dear subject regards sincerely hello
""".split())


def _clean_keyword(kw: str) -> str:
    parts = re.sub(r"\s+", " ", kw).strip(" .,;:!?\"'()[]“”").split(" ")
    while parts and parts[0].lower().strip("'\"“”") in _FRAME:
        parts.pop(0)
    while parts and parts[-1].lower().strip("'\"“”") in _FRAME:
        parts.pop()
    return " ".join(parts).strip(" .,;:!?\"'()[]“”")


YAKE_CHARS = 6000


def yake_keywords(text: str, language: str = "English", limit: int = 12) -> list[str]:
    """YAKE's best keywords (lowest score first), one- to two-word phrases, from the
    text's first YAKE_CHARS characters (YAKE's cost grows with the text: it was 80% of an
    evidence-only run over /usr/share/doc at 20,000 characters)."""
    text = text[:YAKE_CHARS]
    if len(words(text)) < 3:
        return []
    lang = _YAKE_LANG.get(language, "en")
    try:
        scored = _extractor(lang, 2).extract_keywords(text)
    except Exception:  # YAKE on odd input (only symbols, one token): no keywords from it
        return []
    return [kw for kw, _ in scored][:limit]


def _acceptable(kw: str, seen: set[str], kind_words: set[str],
                vocab: FileVocabulary | None, short_ok: bool = False) -> bool:
    low = kw.lower()
    if not kw or len(kw) > MAX_CHARS or _NOISE.search(kw) or low in seen:
        return False
    if len(kw) <= 3 and not kw.isupper() and not short_ok:  # "usr", "bin", "adr": fragments, not topics
        return False
    content = [w for w in words(kw) if w not in _GENERIC and w not in kind_words and len(w) > 2]
    if not content:
        return False
    if vocab is not None and not all(vocab.has(w) for w in content):
        return False  # a keyword names something the file says, never a framing word of ours
    # A phrase that contains an already chosen keyword (or is contained in one) adds little.
    return not any(low in s or s in low for s in seen)


def choose_keywords(candidates, kind: str = "", limit: int = MAX_KEYWORDS,
                    vocab: FileVocabulary | None = None, short_ok: bool = False) -> list[str]:
    """The first ``limit`` acceptable candidates: no duplicates, no noise, no generic words."""
    seen: set[str] = set()
    kind_words = set(words(kind))
    out = []
    for kw in candidates:
        kw = _clean_keyword(str(kw))
        if _acceptable(kw, seen, kind_words, vocab, short_ok):
            seen.add(kw.lower())
            out.append(kw)
            if len(out) == limit:
                break
    return out


def evidence_keywords(text: str, summary: str, kind: str, category: str,
                      language: str = "English", names: list[str] | None = None,
                      name: str = "") -> list[str]:
    """Keywords for one file: YAKE over what the kind makes informative."""
    prose = category in ("documentation", "correspondence", "legal", "financial", "report", "")
    if prose:
        source = text
    else:
        # Code and structured files: the evidence sentence first (names, sections,
        # columns), then comments and identifiers split into words.
        comments = "\n".join(re.findall(r"(?:#|//|/\*|\*|--)\s*([A-Za-z][^\n]{8,})", text[:20000]))
        source = f"{summary}\n{summary}\n{comments}"
    vocab = FileVocabulary(text, name)
    # Names the extractor read from the file's structure (a licence's name, defined
    # functions) come first and need no vocabulary check: they are the evidence.
    chosen = choose_keywords(names or [], kind, short_ok=True)
    candidates = chosen + yake_keywords(source, language if prose else "English")
    if not prose:
        idents = [m.group(1) for m in _IDENT.finditer(text[:20000])]
        counts: dict[str, int] = {}
        for ident in idents:
            counts[ident] = counts.get(ident, 0) + 1
        candidates += sorted(counts, key=lambda k: -counts[k])[:10]
    rest = choose_keywords(candidates[len(chosen):], kind, vocab=vocab)
    return choose_keywords(chosen + rest, kind, short_ok=True)
