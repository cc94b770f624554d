"""Debian's ffprobe reads what a version is at upload: picture size, the exact frame rate
(30000/1001, not 29.97) and duration; a damaged file is still a version, without these."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction

import pytest

from app.assets.media import MediaInfo, probe


@pytest.fixture(scope="module")
def ffmpeg() -> str:
    binary = shutil.which("ffmpeg")
    if binary is None:
        pytest.fail("Debian's ffmpeg is missing: apt-get install ffmpeg (tests/packages.d/app.txt)")
    return binary


def make(ffmpeg: str, path, source: str, *args: str) -> None:  # noqa: ANN001
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", source, *args, str(path)],
                   check=True)  # fmt: skip


def test_video_rate_size_and_duration(ffmpeg, tmp_path):
    video = tmp_path / "ntsc.webm"
    make(ffmpeg, video, "testsrc=size=320x180:rate=30000/1001", "-t", "2", "-c:v", "libvpx",
         "-b:v", "200k")  # fmt: skip
    info = probe(str(video), "video/webm")
    assert (info.width, info.height) == (320, 180)
    assert info.frame_rate == Fraction(30000, 1001)
    assert info.duration == pytest.approx(2.0, abs=0.1)


def test_image_has_a_size_but_no_time(ffmpeg, tmp_path):
    image = tmp_path / "portrait.png"
    make(ffmpeg, image, "color=c=red:size=60x120", "-frames:v", "1")
    assert probe(str(image), "image/png") == MediaInfo(60, 120, None, None)


def test_unreadable_file_and_other_types_give_nothing(ffmpeg, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    assert probe(str(broken), "video/mp4") == MediaInfo()
    assert probe(str(broken), "application/pdf") == MediaInfo()
