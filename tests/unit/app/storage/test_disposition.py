from __future__ import annotations

from urllib.parse import unquote

import pytest

from app.storage.disposition import content_disposition


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("cut.mp4", "cut.mp4"),
        ("Präsentation.mov", "Prasentation.mov"),
        ('say "hi".png', "say _hi_.png"),
        ("C:\\Users\\me\\cut.mov", "cut.mov"),  # Windows paths: only the last part
        ("../../etc/passwd", "passwd"),
        ("100% 東京.jpg", "100_ __.jpg"),
        ("line\r\nX-Injected: 1.txt", "lineX-Injected: 1.txt"),
        ("", "download"),
        ("\u200b", "download"),
    ],
)
def test_ascii_fallback_and_utf8_name(name, fallback):
    header = content_disposition(name)
    assert header.startswith(f"attachment; filename=\"{fallback}\"; filename*=UTF-8''")
    assert header.isascii() and "\r" not in header and "\n" not in header
    encoded = header.split("filename*=UTF-8''", 1)[1]
    # RFC 5987 attr-chars only, so the value needs no quoting
    assert all(c.isalnum() or c in "%!#$&+-.^_`|~" for c in encoded)
    decoded = unquote(encoded)
    assert "/" not in decoded and "\n" not in decoded


def test_utf8_name_round_trips():
    header = content_disposition("Präsentation final.mov", "inline")
    assert header == (
        'inline; filename="Prasentation final.mov"; '
        "filename*=UTF-8''Pr%C3%A4sentation%20final.mov"
    )


def test_only_attachment_or_inline():
    with pytest.raises(ValueError, match="attachment or inline"):
        content_disposition("x", "form-data")
