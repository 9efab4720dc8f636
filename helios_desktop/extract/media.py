"""Audio and video tags through tinytag (MIT): duration, title, artist, album, year."""

from __future__ import annotations

import io

from .base import Corrupt, Extracted, ExtractOptions


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str) -> Extracted:
    from tinytag import TinyTag, TinyTagException

    name = path.decode("utf-8", "replace")
    try:
        tag = TinyTag.get(file_obj=io.BytesIO(data), filename=name)
    except (TinyTagException, OSError, ValueError, KeyError, IndexError, EOFError) as exc:
        raise Corrupt(f"tinytag: {exc}") from None
    meta: dict = {}
    for key in ("title", "artist", "album", "year", "genre", "comment"):
        value = getattr(tag, key, None)
        if value not in (None, ""):
            meta[key] = str(value).strip("\x00 ")
    if tag.duration:
        meta["duration_s"] = round(float(tag.duration), 1)
    for key in ("bitrate", "samplerate", "channels"):
        value = getattr(tag, key, None)
        if value:
            meta[key] = round(float(value), 1) if isinstance(value, float) else value
    if meta.get("artist"):
        meta["authors"] = [meta["artist"]]
    label = "video file" if kind == "video" else "audio file"
    parts = [label.capitalize()]
    if "duration_s" in meta:
        seconds = int(meta["duration_s"])
        parts.append(f"{seconds // 60}:{seconds % 60:02d} long")
    for key in ("title", "artist", "album", "year"):
        if key in meta:
            parts.append(f"{key} {meta[key]}")
    return Extracted(label=label, text=", ".join(parts) + ".", meta=meta, category="other", header=False)
