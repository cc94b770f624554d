"""Display names, Content-Disposition encoding and content sniffing."""

from __future__ import annotations

import pytest

from app.files.names import BadName, clean_name
from app.files.sniff import sniff


@pytest.mark.parametrize("raw", ["../../etc/passwd", "a/b.png", "..", "c:\\x\\y.png", "a\x00.png"])
def test_paths_in_names_are_refused(raw):
    with pytest.raises(BadName):
        clean_name(raw)


def test_names_are_cleaned_for_display():
    assert clean_name("  Cut\x07 1.mov ") == "Cut_ 1.mov"
    assert clean_name("") == "upload"
    long = clean_name("x" * 400 + ".mp4")
    assert len(long) == 255 and long.endswith(".mp4")


@pytest.mark.parametrize(
    "head, kind",
    [(b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"), (b"\x89PNG\r\n\x1a\n....", "image/png"),
     (b"GIF89a....", "image/gif"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
     (b"%PDF-1.7\n", "application/pdf"), (b"PK\x03\x04....", "application/zip"),
     (b"\x00\x00\x00\x18ftypmp42....", "video/mp4"), (b"\x00\x00\x00\x14ftypqt  ", "video/quicktime"),
     (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "video/webm"),
     (b"ID3\x04\x00", "audio/mpeg"), (b"MZ\x90\x00 an exe", None), (b"<html><script>", None),
     (b"", None)],
)  # fmt: skip
def test_sniffing_reads_magic_numbers(head, kind):
    assert sniff(head) == kind
