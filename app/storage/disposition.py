"""Content-Disposition for a user-supplied filename (RFC 6266 with RFC 5987 encoding)."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

# RFC 5987 attr-char minus the letters and digits quote() always keeps
_ATTR_CHAR = "!#$&+-.^_`|~"


def _display_name(filename: str) -> str:
    # the last path component only, no control characters (a CR/LF would split the header)
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name or "download"


def _ascii_fallback(name: str) -> str:
    # é -> e where a base letter exists, anything else non-ASCII -> _; quotes and backslashes
    # would end or escape the quoted-string, % is read as an escape by some browsers
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    out = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in stripped)
    return out or "download"


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''percent-encoded` for any filename."""
    if disposition not in ("attachment", "inline"):
        raise ValueError(f"disposition must be attachment or inline, not {disposition!r}")
    name = _display_name(filename)
    return (
        f'{disposition}; filename="{_ascii_fallback(name)}"; '
        f"filename*=UTF-8''{quote(name, safe=_ATTR_CHAR)}"
    )
