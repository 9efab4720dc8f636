"""E-mail: .eml with the standard library, Outlook .msg through olefile (BSD; the
property streams read directly), mbox as a list of messages (senders, date span).

The text the model sees keeps the message's header lines (From, To, Date, Subject)
before the body, as a person reads a message; attachments are named, not opened.
"""

from __future__ import annotations

import email
import email.parser
import email.policy
import email.utils
import re
import struct
from datetime import datetime, timedelta, timezone

from .base import Corrupt, Extracted, ExtractOptions, clip

MBOX_MESSAGES = 2000   # messages whose headers are read in a mailbox


def _plain(html: str) -> str:
    from html.parser import HTMLParser

    out: list[str] = []

    class P(HTMLParser):
        skip = 0

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "style"):
                self.skip += 1
            elif tag in ("br", "p", "div", "tr", "li"):
                out.append("\n")

        def handle_endtag(self, tag):
            if tag in ("script", "style") and self.skip:
                self.skip -= 1

        def handle_data(self, data):
            if not self.skip:
                out.append(data)

    P(convert_charrefs=True).feed(html)
    return re.sub(r"\n\s*\n+", "\n\n", "".join(out)).strip()


def _message_text(headers: dict, body: str, attachments: list[str]) -> str:
    lines = [f"{k}: {v}" for k, v in headers.items() if v]
    text = "\n".join(lines) + "\n\n" + body.strip()
    if attachments:
        text += "\n\nAttachments: " + ", ".join(attachments)
    return text


def _meta(headers: dict, attachments: list[str]) -> dict:
    meta = {"sender": headers.get("From", ""), "recipients": headers.get("To", ""),
            "subject": headers.get("Subject", ""), "date": headers.get("Date", "")}
    if attachments:
        meta["attachments"] = attachments[:30]
    if meta["sender"]:
        meta["authors"] = [meta["sender"]]
    return {k: v for k, v in meta.items() if v}


def _eml(data: bytes, options: ExtractOptions) -> Extracted:
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
        headers = {k: str(msg.get(k, "") or "") for k in ("From", "To", "Cc", "Date", "Subject")}
        part = msg.get_body(preferencelist=("plain", "html"))
        body = ""
        if part is not None:
            body = part.get_content()
            if part.get_content_type() == "text/html":
                body = _plain(body)
        attachments = [f"{a.get_filename() or 'unnamed'} ({a.get_content_type()})"
                       for a in msg.iter_attachments()]
    except (LookupError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise Corrupt(f"the message cannot be parsed: {exc}") from None
    meta = _meta(headers, attachments)
    notes = [f"{len(attachments)} attachment{'s' if len(attachments) != 1 else ''}"] \
        if attachments else []
    return Extracted(label="email message", text=clip(_message_text(headers, body, attachments),
                                                      options.max_chars),
                     meta=meta, notes=notes, category="correspondence", header=False)


def _filetime(value: int) -> str:
    if not value:
        return ""
    when = datetime(1601, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=value // 10)
    return when.strftime("%Y-%m-%d %H:%M")


def _msg(data: bytes, options: ExtractOptions) -> Extracted:
    import olefile

    try:
        ole = olefile.OleFileIO(data)
    except (OSError, ValueError, struct.error) as exc:
        raise Corrupt(f"olefile: {exc}") from None
    try:
        def prop(tag: str, storage: str = "") -> str:
            for suffix, codec in (("001F", "utf-16-le"), ("001E", "cp1252")):
                name = f"{storage}__substg1.0_{tag}{suffix}"
                if ole.exists(name):
                    return ole.openstream(name).read(1 << 20).decode(codec, "replace").rstrip("\x00")
            return ""

        date = ""
        if ole.exists("__properties_version1.0"):
            raw = ole.openstream("__properties_version1.0").read(1 << 16)[32:]
            for offset in range(0, len(raw) - 15, 16):
                tag = struct.unpack_from("<I", raw, offset)[0]
                if tag in (0x00390040, 0x0E060040):  # submit time, delivery time
                    date = _filetime(struct.unpack_from("<Q", raw, offset + 8)[0])
                    break
        sender = prop("0C1A") or ""
        address = prop("0C1F") or prop("5D01")
        if address and address not in sender:
            sender = f"{sender} <{address}>" if sender else address
        headers = {"From": sender, "To": prop("0E04"), "Cc": prop("0E03"), "Date": date,
                   "Subject": prop("0037")}
        body = prop("1000")
        attachments = []
        for entry in ole.listdir(streams=False, storages=True):
            if len(entry) == 1 and entry[0].startswith("__attach_version1.0_"):
                store = entry[0] + "/"
                attachments.append(prop("3707", store) or prop("3704", store) or "unnamed")
    finally:
        ole.close()
    meta = _meta(headers, attachments)
    return Extracted(label="email message", text=clip(_message_text(headers, body, attachments),
                                                      options.max_chars),
                     meta=meta, category="correspondence", header=False,
                     notes=[f"Outlook message, {len(attachments)} attachments"] if attachments else
                     ["Outlook message"])


_FROM_LINE = re.compile(rb"^From [^\n]*\n", re.M)


def _mbox(data: bytes, options: ExtractOptions) -> Extracted:
    starts = [m.start() for m in _FROM_LINE.finditer(data)]
    senders: dict[str, int] = {}
    dates: list[datetime] = []
    lines = []
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    for i, start in enumerate(starts[:MBOX_MESSAGES]):
        end = starts[i + 1] if i + 1 < len(starts) else len(data)
        chunk = data[start:end].split(b"\n", 1)[-1]
        head = parser.parsebytes(chunk[:16384])
        sender = str(head.get("From", "")).strip()
        if sender:
            senders[sender] = senders.get(sender, 0) + 1
        try:
            when = email.utils.parsedate_to_datetime(str(head.get("Date", "")))
            dates.append(when if when.tzinfo else when.replace(tzinfo=timezone.utc))
        except (TypeError, ValueError, IndexError):
            pass
        if len(lines) < 40:
            lines.append(f"{head.get('Date', '')} | {sender} | {head.get('Subject', '')}")
    top = sorted(senders, key=senders.get, reverse=True)[:5]
    meta = {"messages": len(starts), "senders": top}
    if dates:
        meta["first"] = min(dates).strftime("%Y-%m-%d")
        meta["last"] = max(dates).strftime("%Y-%m-%d")
    text = f"Mailbox of {len(starts)} messages\n" + "\n".join(lines)
    return Extracted(label="mailbox", text=clip(text, options.max_chars), meta=meta,
                     category="correspondence", header=False)


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str) -> Extracted:
    return {"eml": _eml, "msg": _msg, "mbox": _mbox}[kind](data, options)
