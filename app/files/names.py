"""Names a user sends: checked for traversal and cleaned for display (headers encode them with
app.storage.disposition, shared with the S3 backend's presigned URLs)."""

from __future__ import annotations

import re
import unicodedata

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class BadName(ValueError):
    pass


def clean_name(raw: str) -> str:
    """A display name from what the client sent; a path of any kind is refused, not trimmed."""
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        return "upload"
    if "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        raise BadName("the file name must not contain a path (/, \\ or ..); send the bare name")
    name = CONTROL.sub("_", name)
    # keep the extension when shortening
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 255 - len(ext) - 1] + dot + ext) if dot and len(ext) < 16 else name[:255]
    return name
