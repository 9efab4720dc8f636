"""Files known by their name or their form: system files, Debian copyright files,
changelogs, credits, and settings-like files without an extension.

What such a file is cannot be read from an extension (``/etc/hostname`` holds one word,
``/usr/share/doc/tar/copyright`` has none), but a person knows it by its name or by the
form its first lines take. Each entry here names the kind, the category it belongs to
and, for system files, what the file is for (used by the summary).
"""

from __future__ import annotations

import re

PLAIN = "plain text"  # the format of text that follows no other
DEBIAN_COPYRIGHT = "Debian copyright file"
CHANGELOG = "changelog"
CREDITS = "credits file"
SYSTEM_FILE = "system file"

# Well-known files of a Unix system (mostly /etc) and what each is for; their content
# (one word, a version, a banner) says too little on its own.
SYSTEM_FILES: dict[str, str] = {
    "hostname": "the machine's host name",
    "mailname": "the host name used in outgoing mail",
    "timezone": "the machine's time zone",
    "machine-id": "the machine's unique id",
    "debian_version": "the Debian release installed",
    "issue": "the login banner shown before a console login",
    "issue.net": "the login banner shown before a network login",
    "motd": "the message of the day, shown after login",
    "fstab": "the file systems mounted at boot",
    "crypttab": "the encrypted block devices set up at boot",
    "hosts": "host names and their IP addresses",
    "hosts.allow": "hosts allowed to reach network services",
    "hosts.deny": "hosts refused by network services",
    "networks": "network names and their addresses (networks table)",
    "protocols": "Internet protocol numbers and names",
    "services": "network services and their port numbers",
    "ethertypes": "Ethernet frame types (EtherType numbers)",
    "mime.types": "MIME media types and their file extensions",
    "shells": "the valid login shells",
    "passwd": "the user accounts",
    "group": "the user groups",
    "environment": "environment variables set at login",
    "crontab": "jobs run on a schedule by cron",
    "inputrc": "readline key bindings and settings",
    "locale.gen": "the locales to build",
    "login.defs": "settings of the login package and the shadow password suite",
    "manpath.config": "where man finds manual pages (man-db)",
    "securetty": "the terminals root may log in on",
    "subuid": "subordinate user ids",
    "subgid": "subordinate group ids",
    "os-release": "the operating system's identification",
    "host.conf": "resolver settings for host name lookups",
    "nsswitch.conf": "the Name Service Switch: where each system database is looked up",
    "mke2fs.conf": "defaults for creating ext2/ext3/ext4 file systems",
    "resolv.conf": "the DNS resolvers the machine asks",
    "sysctl.conf": "kernel parameters set at boot",
    "sudoers": "who may run which commands as another user (sudo)",
    "ld.so.conf": "where the dynamic linker looks for libraries",
}
# The formats of system files whose form their name fixes (a fresh /etc/fstab holds only
# a comment, yet it is a table); the others' formats are read from their lines.
_TABLES = ("fstab crypttab hosts hosts.allow hosts.deny networks protocols services "
           "ethertypes mime.types passwd group subuid subgid securetty manpath.config")
_SETTINGS = ("inputrc locale.gen login.defs os-release environment host.conf nsswitch.conf "
             "mke2fs.conf resolv.conf sysctl.conf sudoers ld.so.conf")
_PLAIN_FILES = "hostname mailname timezone machine-id debian_version issue issue.net motd shells"
SYSTEM_FORMATS = {**{n: "table" for n in _TABLES.split()}, **{n: "INI" for n in _SETTINGS.split()},
                  **{n: "plain text" for n in _PLAIN_FILES.split()}}
# A plain text file whose first line names a licence and that goes on at length.
_LICENCE_HEAD = re.compile(r"\A\s*[^\n]{0,80}\b(?:licen[cs]e|copyright)\b", re.I)

_DEP5 = re.compile(r"\AFormat:\s*https?://(?:www\.)?debian\.org/doc/packaging-manuals/copyright-format",
                   re.I)
# Old-style copyright files open with how the package came to Debian.
_OLD_COPYRIGHT = re.compile(r"debianized|debianised|debian (?:gnu/linux )?(?:pre-?)?packag|"
                            r"packaged (?:for|by) debian|debian (?:base system|maintainer)", re.I)
# "tar (1.34+dfsg-1.2) bookworm; urgency=medium": a Debian changelog entry's first line.
DEBIAN_CHANGELOG_HEAD = re.compile(
    r"^([a-z0-9][a-z0-9+.-]+) \(([^)\s]+)\) ([\w/-]+(?: [\w/-]+)*);\s*urgency=\w+", re.M)
_CHANGELOG_NAMES = {"changelog", "changes", "news", "history", "changelog.debian", "news.debian"}
_CREDIT_NAMES = {"authors", "thanks", "credits", "contributors", "maintainers"}

_COMMENT = ("#", ";", "!", "//")
_SENTENCE_END = re.compile(r"[.!?]\s*$|[.!?]\s+[A-Z]")
# Lines of code: a block opens or closes, a call, a statement keyword.
_AMOUNT = re.compile(r"\d[\d,]*\.\d{2}\b(?!\.)")
_CODE = re.compile(r"[:{};]\s*$|^[})]|\w\(.*\)|^(?:def|class|import|from|if|for|while|return|print)\b")


def _settings_like(text: str) -> bool:
    """Lines of short records, key-value pairs or comments, not sentences: /etc tables
    (protocols, services, fstab), one-line files (hostname, issue) and commented lists
    (locale.gen). Prose has long lines that end sentences."""
    lines = [line.strip() for line in text[:20000].splitlines() if line.strip()]
    if not lines:
        return False
    data = [line for line in lines if not line.startswith(_COMMENT)]
    if not data:
        return True  # only comments: a template left to fill in
    if sum(1 for line in data if _CODE.search(line)) >= 0.25 * len(data):
        return False  # a script in a .txt file
    if sum(1 for line in data if _AMOUNT.search(line)) >= 2:
        return False  # lines of amounts: an expense list or an invoice, not settings
    records = sum(1 for line in data
                  if len(line.split()) <= 10 and not _SENTENCE_END.search(line))
    return records >= 0.8 * len(data)


def wellknown_kind(name: str, text: str) -> tuple[str, str, str] | None:
    """(kind label, category, format) for a file known by its name or form, else None."""
    low = name.lower()
    stem = low.split(".", 1)[0]
    head = text[:2000]
    if low == "copyright" or _DEP5.match(head) or (
            stem == "copyright" and _OLD_COPYRIGHT.search(head)):
        return DEBIAN_COPYRIGHT, "legal", "Debian copyright"
    debian_changelog = DEBIAN_CHANGELOG_HEAD.match(text[:300])
    if low in _CHANGELOG_NAMES or stem in ("changelog", "changes") or debian_changelog:
        return CHANGELOG, "documentation", "Debian changelog" if debian_changelog else PLAIN
    if stem in _CREDIT_NAMES:
        return CREDITS, "documentation", PLAIN
    if low in SYSTEM_FILES:
        return SYSTEM_FILE, "configuration", SYSTEM_FORMATS.get(low) or settings_format(text)
    if _LICENCE_HEAD.match(head) and len(text) > 2000:
        return "licence text", "legal", PLAIN  # /usr/share/common-licenses/GPL-2, LGPL-2.1
    return None


def settings_category(label: str, text: str) -> str:
    """'configuration' for a plain text file that reads as settings or a table of
    records rather than prose; '' otherwise."""
    if label == "text document" and _settings_like(text):
        return "configuration"
    return ""


# A settings line: key = value, key: value, [section], readline's "set name value", or a
# capitalised name and its value (login.defs's MAIL_DIR, ssh_config's SendEnv).
_SETTING = re.compile(r"^(?:\[[^\]]{1,60}\]$|\S+?\s*[=:]\s*\S|set\s+\S|\$\w+|"
                      r"[A-Z][A-Za-z0-9_]+\s+\S)")


def data_lines(text: str) -> list[str]:
    """The lines that are not blank and not comments (a trailing comment cut off)."""
    out = []
    for line in text[:20000].splitlines():
        line = line.strip()
        if line and not line.startswith(_COMMENT):
            out.append(line.split(" #", 1)[0].split("\t#", 1)[0].strip())
    return out


def settings_format(text: str) -> str:
    """The format of a settings-like file without a telling extension: ``INI`` for
    settings (key = value and the like, or only comments: a template), ``table`` for
    records in columns (/etc/protocols, fstab, hosts), else plain text (one value per
    line, a banner, a host name)."""
    lines = data_lines(text)
    if not lines:
        return "INI"
    from .kinds import natural_language  # kinds imports this module

    if natural_language("\n".join(lines)):
        return PLAIN  # sentences: a message (/etc/motd), not settings
    if sum(1 for line in lines if _SETTING.match(line)) >= 0.6 * len(lines):
        return "INI"
    if sum(1 for line in lines if len(line.split()) >= 2) >= 0.5 * len(lines) and len(lines) >= 2:
        return "table"
    return PLAIN
