"""What a stored picture or video is: size, exact frame rate and duration, read by ffprobe."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from dataclasses import dataclass
from fractions import Fraction

log = logging.getLogger("eyeshots.media")

PROBE_SECONDS = 30  # a damaged file must not hold an upload for longer


@dataclass(frozen=True)
class MediaInfo:
    width: int | None = None
    height: int | None = None
    frame_rate: Fraction | None = None  # videos only: images have no time
    duration: float | None = None


def _rate(text: str | None) -> Fraction | None:
    """ffprobe's "30000/1001"; "0/0" (unknown) and nonsense are None."""
    try:
        rate = Fraction(text or "")
    except (ValueError, ZeroDivisionError):
        return None
    return rate if 0 < rate <= 1000 else None


def _number(value: object, kind: type) -> int | float | None:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def parse(report: dict, is_video: bool) -> MediaInfo:
    """The first video stream of `ffprobe -of json -show_streams -show_format`."""
    stream = next((s for s in report.get("streams", []) if s.get("codec_type") == "video"), None)
    if stream is None:
        return MediaInfo()
    # r_frame_rate is the stream's base rate (exact for constant-rate video); the average is
    # the fallback when a container leaves it out
    rate = _rate(stream.get("r_frame_rate")) or _rate(stream.get("avg_frame_rate"))
    duration = _number(stream.get("duration") or report.get("format", {}).get("duration"), float)
    return MediaInfo(
        width=_number(stream.get("width"), int),
        height=_number(stream.get("height"), int),
        frame_rate=rate if is_video else None,
        duration=duration if is_video else None,
    )


def probe(path: str, content_type: str) -> MediaInfo:
    """Never raises: a file ffprobe cannot read is still a version, just without these facts."""
    if not content_type.startswith(("image/", "video/")):
        return MediaInfo()
    binary = shutil.which("ffprobe")
    if binary is None:
        log.warning("ffprobe is missing (apt-get install ffmpeg): no frame rate for %s", path)
        return MediaInfo()
    command = [binary, "-v", "error", "-of", "json", "-show_streams", "-show_format", path]
    try:
        done = subprocess.run(command, capture_output=True, timeout=PROBE_SECONDS, check=True)
        return parse(json.loads(done.stdout), content_type.startswith("video/"))
    except subprocess.CalledProcessError as error:
        reason = error.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no reason"]
        log.warning("ffprobe cannot read this %s: %s", content_type, reason[0][:200])
    except (subprocess.SubprocessError, OSError, ValueError) as error:
        log.warning("ffprobe failed on a %s: %s", content_type, error)
    return MediaInfo()
