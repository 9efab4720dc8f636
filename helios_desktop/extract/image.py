"""Images through Pillow, header only: format, dimensions, camera, date taken,
software and GPS position from EXIF. No pixel is decoded; Pillow's decompression-bomb
limit (MAX_IMAGE_PIXELS) is kept and only an allow-list of formats is opened.

A GPS position raises the personal-data flag: where a photo was taken says where a
person was. The position is the evidence.
"""

from __future__ import annotations

import io

from .base import Corrupt, Extracted, ExtractOptions, LimitHit

FORMATS = ("JPEG", "PNG", "GIF", "TIFF", "WEBP", "BMP")
_MAKE, _MODEL, _SOFTWARE, _DATETIME = 0x010F, 0x0110, 0x0131, 0x0132
_EXIF_IFD, _GPS_IFD, _ORIGINAL = 0x8769, 0x8825, 0x9003


def _degrees(value, ref) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    return -result if str(ref).upper() in ("S", "W") else result


def extract(data: bytes, path: bytes, options: ExtractOptions, kind: str = "") -> Extracted:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as img:
            fmt, (width, height), mode = img.format, img.size, img.mode
            frames = getattr(img, "n_frames", 1)
            exif = img.getexif()
    except Image.DecompressionBombError as exc:
        raise LimitHit(f"image pixels: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise Corrupt(f"Pillow: {exc}") from None
    meta: dict = {"format": fmt, "width": width, "height": height, "mode": mode}
    if frames and frames > 1:
        meta["frames"] = frames
    if width * height > Image.MAX_IMAGE_PIXELS:
        meta["large"] = True
    make, model = (str(exif.get(t, "")).strip("\x00 ") for t in (_MAKE, _MODEL))
    camera = model if model.lower().startswith(make.lower()) else f"{make} {model}".strip()
    if camera:
        meta["camera"] = camera
    software = str(exif.get(_SOFTWARE, "")).strip("\x00 ")
    if software:
        meta["producer"] = software
    taken = ""
    try:
        taken = str(exif.get_ifd(_EXIF_IFD).get(_ORIGINAL, "") or exif.get(_DATETIME, ""))
    except (KeyError, ValueError, TypeError):
        taken = str(exif.get(_DATETIME, ""))
    taken = taken.strip("\x00 ")
    if taken:
        # EXIF writes 2024:05:01 10:00:00
        meta["created"] = taken[:10].replace(":", "-") + taken[10:]
    findings = []
    try:
        gps = exif.get_ifd(_GPS_IFD)
    except (KeyError, ValueError, TypeError):
        gps = {}
    if gps and 2 in gps and 4 in gps:
        lat, lon = _degrees(gps[2], gps.get(1, "N")), _degrees(gps[4], gps.get(3, "E"))
        if lat is not None and lon is not None and (lat or lon):
            meta["gps"] = {"latitude": round(lat, 6), "longitude": round(lon, 6)}
            findings.append({"kind": "GPS position", "line": 0,
                             "sample": f"{lat:.3f}, {lon:.3f}"})
    label = "photo" if camera or taken else "image"
    parts = [f"{fmt} image, {width} x {height} pixels"]
    if camera:
        parts.append(f"camera {camera}")
    if taken:
        parts.append(f"taken {meta['created']}")
    if software:
        parts.append(f"software {software}")
    if "gps" in meta:
        parts.append(f"GPS position {meta['gps']['latitude']:.5f}, {meta['gps']['longitude']:.5f}")
    return Extracted(label=label, text=", ".join(parts) + ".", meta=meta, findings=findings,
                     category="other", header=False)
