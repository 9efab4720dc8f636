"""Glob patterns over relative paths, with ``**`` spanning folders."""

from __future__ import annotations

import re
from functools import lru_cache


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
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


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
