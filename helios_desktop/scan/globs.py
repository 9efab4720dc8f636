"""Glob patterns over relative paths, with ``**`` spanning folders.

``*`` matches within one folder name, ``?`` one character, ``[abc]``, ``[a-z]`` and
``[!abc]`` one character of a set (never ``/``). A pattern that cannot mean anything
(an unclosed ``[``, say) is refused by ``check_pattern`` rather than matching nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache


class GlobError(ValueError):
    """A pattern that is not a valid glob; the message names it and says why."""


def _class(pattern: str, i: int) -> tuple[str, int]:
    """The regex for the ``[...]`` set starting at ``pattern[i]``, and the index after it."""
    j = i + 1
    negate = j < len(pattern) and pattern[j] in "!^"
    if negate:
        j += 1
    start = j
    if j < len(pattern) and pattern[j] == "]":  # a leading ] is a member, as in fnmatch
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 1
    if j >= len(pattern):
        raise GlobError(f"pattern {pattern!r} has a '[' at position {i + 1} that is never "
                        "closed; write '[[]' for a literal '['")
    members = pattern[start:j]
    if not members:
        raise GlobError(f"pattern {pattern!r} has an empty set '[]' at position {i + 1}")
    parts = []
    k = 0
    while k < len(members):
        if k + 2 < len(members) and members[k + 1] == "-":
            lo, hi = members[k], members[k + 2]
            if lo > hi:
                raise GlobError(f"pattern {pattern!r} has the range '{lo}-{hi}', "
                                "which is backwards")
            parts.append(f"{re.escape(lo)}-{re.escape(hi)}")
            k += 3
        else:
            parts.append(re.escape(members[k]))
            k += 1
    body = "".join(parts)
    return (f"[^/{body}]" if negate else f"(?!/)[{body}]"), j + 1


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            regex, i = _class(pattern, i)
            out.append(regex)
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def check_pattern(pattern: str) -> str:
    """``pattern`` if it is a valid glob, else ``GlobError`` naming it."""
    if not pattern.strip():
        raise GlobError(f"pattern {pattern!r} is empty")
    _compile(pattern)
    return pattern


class GlobFilter:
    """Decides whether a relative path is included by ``include`` and not ``exclude``."""

    def __init__(self, include: list[str], exclude: list[str]):
        self._include = [_compile(p) for p in include]
        self._exclude = [_compile(p) for p in exclude]
        # Common case: include everything, exclude only whole folders ("**/.git/**").
        # Then a file inside a folder that was walked is always wanted: no match needed.
        self.takes_every_file = "**" in include and all(
            p.endswith("/**") and "*" not in p[:-3].replace("**/", "", 1) for p in exclude)

    def wants_file(self, rel: str) -> bool:
        if any(p.match(rel) for p in self._exclude):
            return False
        return any(p.match(rel) for p in self._include)

    def prunes_dir(self, rel: str) -> bool:
        """A folder is pruned when everything under it is excluded."""
        probe = rel + "/\x00"
        return any(p.match(probe) for p in self._exclude)
