"""Names a user sends: checked for traversal, cleaned for display, encoded for headers."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# RFC 6266's quoted-string fallback: printable ASCII without quote and backslash
ASCII_SAFE = re.compile(r"[^A-Za-z0-9 !#$&'()*+,.:;<=>?@\[\]^_`{|}~-]")


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


def content_disposition(name: str, inline: bool = False) -> str:
    """RFC 6266 with an RFC 5987 `filename*` for non-ASCII names and an ASCII fallback."""
    kind = "inline" if inline else "attachment"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = ASCII_SAFE.sub("_", ascii_name).strip() or "download"
    encoded = quote(name, safe="")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"
