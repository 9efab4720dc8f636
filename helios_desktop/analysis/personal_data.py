"""Personal data that means something: patterns checked the way their issuers check them.

A file is flagged only with evidence: an e-mail address of valid syntax, a phone number
written as one (a leading + or a separated group pattern, 9 to 15 digits), an IBAN whose
mod-97 checksum holds, a payment card number that passes the Luhn check with a known
issuer prefix, or a US social security number in its valid ranges. Each finding keeps
its kind, line and a masked sample, stored with the result and shown in the window.
An address or phone in a public notice (a copyright file, a changelog, a credit line)
is kept but marked ``public_contact`` (``public_contacts.py``); strings that reach
nobody (an SSH algorithm name, a placeholder domain, a clause number) are not findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .public_contacts import (identifier_line, list_address, not_a_mailbox, not_a_phone,
                              notice_file, notice_line)

SCAN_CHARS = 65536      # how much of a file is searched
MAX_FINDINGS = 5        # per file: enough to show why

_EMAIL = re.compile(r"(?<![\w.+-])([A-Za-z0-9][A-Za-z0-9._%+-]{0,63})@"
                    r"((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})(?![\w-])")
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)\b")
_CARD = re.compile(r"(?<![\d-])(\d(?:[ -]?\d){12,18})(?![\d-])")
_PHONE = re.compile(r"(?<![\w+])(\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}"
                    r"|\(\d{3}\) ?\d{3}[ .-]\d{4}|\b\d{3}[.-]\d{3}[.-]\d{4})(?![\w])")
_SSN = re.compile(r"(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-])")
# Addresses that name no person: examples, placeholders, machines.
_NOT_PEOPLE = re.compile(r"(^|\.)(example\.(com|org|net)|localhost|invalid|test)$", re.I)
_ROLE = {"noreply", "no-reply", "donotreply", "root", "postmaster", "mailer-daemon"}

IBAN_LENGTHS = {"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22,
                "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21,
                "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
                "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24,
                "SI": 19, "SK": 24, "SM": 27, "TR": 26}


@dataclass(frozen=True)
class Finding:
    kind: str      # "e-mail", "phone", "IBAN", "card number", "national id"
    line: int      # 1-based line in the file
    sample: str    # masked, so the evidence itself does not spread the data
    public_contact: bool = False  # a contact published in a notice (copyright, credits)

    def as_dict(self) -> dict:
        out = {"kind": self.kind, "line": self.line, "sample": self.sample}
        if self.public_contact:
            out["public_contact"] = True
        return out


def personal(findings) -> bool:
    """True when any finding is personal data rather than a public contact."""
    return any(not (f.public_contact if isinstance(f, Finding) else f.get("public_contact"))
               for f in findings)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_issuer(digits: str) -> str:
    """The issuer a card number's prefix and length belong to ('' for none)."""
    n = len(digits)
    if digits[0] == "4" and n in (13, 16, 19):
        return "Visa"
    if n == 16 and (51 <= int(digits[:2]) <= 55 or 2221 <= int(digits[:4]) <= 2720):
        return "Mastercard"
    if n == 15 and digits[:2] in ("34", "37"):
        return "American Express"
    if n == 16 and (digits.startswith(("6011", "65")) or 644 <= int(digits[:3]) <= 649):
        return "Discover"
    return ""


def iban_ok(text: str) -> bool:
    iban = text.replace(" ", "")
    if IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    moved = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in moved)
    return int(number) % 97 == 1


def email_ok(local: str, domain: str) -> bool:
    if ".." in local or local.endswith(".") or len(local) > 64 or len(domain) > 253:
        return False
    if _NOT_PEOPLE.search(domain) or local.lower() in _ROLE:
        return False
    return not domain.split(".")[-1].isdigit()


def ssn_ok(area: str, group: str, serial: str) -> bool:
    return (area not in ("000", "666") and not area.startswith("9") and group != "00"
            and serial != "0000")


def _mask(text: str, keep: int = 2) -> str:
    """'jo***@example.org', '**** **** **** 1111'."""
    if "@" in text:
        local, _, domain = text.partition("@")
        return local[:keep] + "***@" + domain
    digits = [i for i, ch in enumerate(text) if ch.isalnum()]
    hide = set(digits[keep:-4]) if len(digits) > keep + 4 else set(digits[:-2])
    return "".join("*" if i in hide else ch for i, ch in enumerate(text))


def find_personal_data(text: str, limit: int = MAX_FINDINGS, name: str = "") -> list[Finding]:
    """Validated personal data in ``text`` (its first SCAN_CHARS characters). ``name``,
    the file's name, tells a public notice (``copyright``, ``AUTHORS``, ``package.json``)
    whose addresses and phones are marked as public contacts. Personal findings come
    before public ones when there are more than ``limit``."""
    sample = text[:SCAN_CHARS]
    found: list[tuple[int, Finding]] = []
    taken: list[tuple[int, int]] = []
    whole_notice = notice_file(name, sample) if name else False

    def line_at(pos: int) -> str:
        start = sample.rfind("\n", 0, pos) + 1
        end = sample.find("\n", pos)
        return sample[start:end if end >= 0 else len(sample)]

    def add(kind: str, match: re.Match, shown: str, contact: bool = False,
            public: bool = False) -> None:
        start, end = match.span(1)
        if any(s < end and start < e for s, e in taken):
            return
        taken.append((start, end))
        public = public or contact and (whole_notice or notice_line(line_at(start)))
        found.append((start, Finding(kind, sample.count("\n", 0, start) + 1, _mask(shown),
                                     public)))

    if "@" in sample:
        for m in _EMAIL.finditer(sample):
            local, domain = m.group(1), m.group(2)
            if email_ok(local, domain) and not identifier_line(line_at(m.start())) and \
                    not not_a_mailbox(local, domain, sample[max(0, m.start() - 1):m.start()]):
                add("e-mail", m, m.group(0), contact=True, public=list_address(local, domain))
    for m in _IBAN.finditer(sample):
        if iban_ok(m.group(1)):
            add("IBAN", m, m.group(1))
    for m in _CARD.finditer(sample):
        digits = re.sub(r"\D", "", m.group(1))
        if luhn_ok(digits) and card_issuer(digits) and len(set(digits)) > 2:
            add(f"card number ({card_issuer(digits)}, Luhn check passed)", m, m.group(1))
    for m in _SSN.finditer(sample):
        if ssn_ok(*m.groups()):
            add("national id (US SSN)", m, m.group(0))
    for m in _PHONE.finditer(sample):
        digits = re.sub(r"\D", "", m.group(1))
        if 9 <= len(digits) <= 15 and len(set(digits)) > 2 and \
                not not_a_phone(m.group(1), sample[max(0, m.start(1) - 40):m.start(1)]):
            add("phone", m, m.group(1), contact=True)
    found.sort(key=lambda pair: (pair[1].public_contact, pair[0]))
    return [f for _, f in sorted(found[:limit], key=lambda pair: pair[0])]
