"""SMPTE time code at a file's real frame rate (drop-frame for 29.97 and 59.94), and back.

Times are stored in seconds; a time code names the frame that starts at or before them.
app/static/player.js does the same arithmetic in the browser.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from app.core.errors import Invalid

SMPTE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([:;])(\d{2,3})$")
# frame times are exact fractions; a float second can land a hair before its frame's start
EPSILON = 1e-6


def is_drop_frame(rate: Fraction) -> bool:
    return rate.denominator == 1001 and rate.numerator in (30000, 60000)


def nominal(rate: Fraction) -> int:
    return round(rate)


def frame_at(seconds: float, rate: Fraction) -> int:
    return max(0, math.floor(seconds * rate + EPSILON))


def frame_start(frame: int, rate: Fraction) -> float:
    return float(frame / rate)


def smpte(frame: int, rate: Fraction) -> str:
    """HH:MM:SS:FF, or HH:MM:SS;FF counting drop-frame (frame numbers 0 and 1 skipped every
    minute but each tenth at 29.97) so the clock matches the wall clock."""
    fps = nominal(rate)
    separator = ":"
    if is_drop_frame(rate):
        drop = fps // 15  # 2 at 29.97, 4 at 59.94
        per_ten = round(rate * 600)
        per_minute = fps * 60 - drop
        tens, rest = divmod(frame, per_ten)
        frame += 9 * drop * tens + (drop * ((rest - drop) // per_minute) if rest > drop else 0)
        separator = ";"
    hours, rest = divmod(frame, fps * 3600)
    minutes, rest = divmod(rest, fps * 60)
    secs, frames = divmod(rest, fps)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{frames:02d}"


def label(seconds: float | None, rate: Fraction | None) -> str:
    """What a comment shows: SMPTE when the frame rate is known, else HH:MM:SS.mmm."""
    if seconds is None:
        return ""
    if rate:
        return smpte(frame_at(seconds, rate), rate)
    whole = int(seconds)
    millis = int((seconds - whole) * 1000)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}.{millis:03d}"


def parse(value: str, field: str, rate: Fraction | None) -> float | None:
    """'83.5', '1:23.5', '0:01:23.5' (seconds), or SMPTE '00:01:23:12' at the file's rate."""
    value = value.strip()
    if not value:
        return None
    match = SMPTE.match(value)
    if match:
        if not rate:
            raise Invalid("This file has no frame rate: use seconds like 1:23.5", field=field)
        hh, mm, ss, _, ff = (match.group(i) for i in range(1, 6))
        fps = nominal(rate)
        if int(mm) > 59 or int(ss) > 59 or int(ff) >= fps:
            raise Invalid(f"Use a time code like 00:01:23:12 (frames below {fps})", field=field)
        minutes = int(hh) * 60 + int(mm)
        frame = (minutes * 60 + int(ss)) * fps + int(ff)
        if is_drop_frame(rate):
            frame -= (fps // 15) * (minutes - minutes // 10)
        return frame_start(frame, rate)
    try:
        seconds = 0.0
        for part in value.split(":"):
            seconds = seconds * 60 + float(part)
    except ValueError:
        raise Invalid("Use a time code like 1:23 or 83.5", field=field) from None
    if seconds < 0 or len(value.split(":")) > 3 or seconds != seconds:
        raise Invalid("Use a time code like 1:23 or 83.5", field=field)
    return seconds
