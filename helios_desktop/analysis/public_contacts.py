"""Contacts in public notices, and strings that only look like addresses or phone numbers.

A maintainer's address in a Debian copyright file, an author's in a changelog or in a
source file's credit line is published so people can reach them: it is kept as
evidence but marked ``public_contact``, and a file whose only findings are such
contacts is not flagged for personal data. Some matches are no contact at all: an SSH
algorithm (``umac-64@openssh.com``), a placeholder (``user@host.domain.name``), an
event or message id, a clause number (``252.227-7013``) or a version.
"""

from __future__ import annotations

import re

from ..scan.wellknown import CHANGELOG, CREDITS, DEBIAN_COPYRIGHT, wellknown_kind

# Files that are public notices by their name: credits, changelogs, copyright and
# licence files, READMEs, package metadata.
_NOTICE_STEMS = {"copyright", "copying", "license", "licence", "authors", "thanks", "credits",
                 "contributors", "maintainers", "changelog", "changes", "news", "history",
                 "readme", "notice", "owners", "codeowners"}
_METADATA = {"package.json", "composer.json", "bower.json", "setup.py", "setup.cfg",
             "pyproject.toml", "pkg-info", "metadata", "cargo.toml", "control", "pom.xml",
             "description", "meta.json", "meta.yml", "debian.control", "package.xml"}
_METADATA_EXT = (".gemspec", ".nuspec", ".spec", ".podspec", ".cabal")

# A line that credits someone publicly: a copyright line, an author or maintainer
# field, a changelog signature (" -- Name <address>  date"), a commit trailer.
_NOTICE_LINE = re.compile(
    r"copyright|\(c\)\s*\d|©|\bauthors?\b|maintainer|uploaders?\b|upstream-contact|"
    r"written by|contributed by|originally by|ported by|\bcredits?\b|thanks to|"
    r"(?:reported|signed-off|reviewed|acked|tested|co-authored)-by|__(?:author|email)__|"
    r"@author|bugs? (?:to|at|report)|report bugs|mailing list|^\s*--\s+\S.*<[^>]+>\s+\w{3},",
    re.I)

# Identifier fields whose values carry an @ but name no mailbox.
_ID_LINE = re.compile(r"^\s*(?:UID|Message-ID|In-Reply-To|References|Content-ID|"
                      r"X-[\w-]*ID|RECURRENCE-ID)\s*[:;]", re.I | re.M)
# Algorithm names in the OpenSSH style: name@domain for a cipher, MAC or key exchange.
_ALGORITHM = re.compile(r"(?:sha\d|md5|hmac|umac|aes\d|chacha|poly1305|curve\d|ed\d{3,}|ecdsa|"
                        r"rsa|cert-v\d|etm|gcm|ctr\b|cbc|diffie|sntrup|mlkem|kex|zlib)", re.I)
# Example and placeholder domains (RFC 2606, RFC 6761) and their everyday look-alikes.
_PLACEHOLDER_LABELS = {"example", "domain", "yourdomain", "mydomain", "your-domain",
                       "yourcompany", "company", "yoursite", "somewhere", "somedomain", "foo",
                       "bar", "hostname", "host", "localdomain", "invalid"}
_RESERVED_TLDS = {"test", "invalid", "localhost", "local", "localdomain", "lan", "internal",
                  "tld", "domain", "home", "corp"}

# Words before a number that make it a clause, version, ticket or build number.
_NUMBER_CONTEXT = re.compile(
    r"\b(?:version|release|v\.?|rev(?:ision)?|build|ticket|section|clause|"
    r"paragraph|subparagraph|article|dfars|far|cfr|u\.s\.c\.|§|isbn|"
    r"patent|rfc|serial)\W{0,4}$", re.I)


# Mailboxes of projects, packages and lists rather than of a person.
_LIST_DOMAIN = re.compile(r"^(?:lists?|packages|bugs|tracker|alioth-lists)\.", re.I)
_LIST_LOCAL = re.compile(r"^(?:bug|help|owner|info)-|-(?:devel?|users|announce|discuss|"
                         r"maintainers|team|general|request|bugs)$", re.I)


def list_address(local: str, domain: str) -> bool:
    """True for a project's, package's or mailing list's address (help-make@gnu.org,
    base-passwd@packages.debian.org): published to reach a group, not a person."""
    return bool(_LIST_DOMAIN.match(domain) or _LIST_LOCAL.search(local))


def notice_file(name: str, text: str) -> bool:
    """True for a file whose addresses are published contacts: credits, changelogs,
    copyright and licence files, READMEs, package metadata."""
    low = name.lower()
    stem = low.split(".", 1)[0]
    if stem in _NOTICE_STEMS or low in _METADATA or low.endswith(_METADATA_EXT):
        return True
    found = wellknown_kind(name, text)
    return bool(found) and found[0] in (DEBIAN_COPYRIGHT, CHANGELOG, CREDITS, "licence text")


def notice_line(line: str) -> bool:
    """True for a line that credits someone in public (copyright, author, signature)."""
    return bool(_NOTICE_LINE.search(line))


def identifier_line(line: str) -> bool:
    """True for a line whose @-values are ids (UID:, Message-ID:), not mailboxes."""
    return bool(_ID_LINE.match(line))


def not_a_mailbox(local: str, domain: str, before: str = "") -> bool:
    """True for an address-shaped string that reaches nobody: an algorithm name, a
    placeholder or example address, a message id in a URL's path."""
    if before.endswith("/"):
        return True  # http://article.olduse.net/109@Autzoo.UUCP
    labels = domain.lower().split(".")
    if labels[-1] in _RESERVED_TLDS or any(label in _PLACEHOLDER_LABELS for label in labels[:-1]):
        return True
    # umac-64@openssh.com, curve25519-sha256@libssh.org: ssh_config's algorithm lists
    return bool(_ALGORITHM.search(local) and re.search(r"\d|-", local))


def not_a_phone(number: str, before: str) -> bool:
    """True for a number that is a clause, version, ticket or build number rather than a
    phone: mixed separators (252.227-7013), a context word before it, or a North
    American number whose area or exchange code cannot begin with 0 or 1."""
    if _NUMBER_CONTEXT.search(before[-30:]):
        return True
    if number.startswith("+"):
        return False
    seps = set(re.findall(r"[.-]", number))
    if len(seps) > 1:
        return True  # 252.227-7013: a phone writes its groups one way
    groups = re.findall(r"\d+", number)
    if len(groups) == 3 and len(groups[0]) == 3 and (groups[0][0] in "01" or groups[1][0] in "01"):
        return True
    return False
