"""Go's RFC3339Nano timestamps, kept to the nanosecond (Python's datetime stops at microseconds)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

_RFC3339 = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|z|[+-]\d\d:\d\d)$"
)


@lru_cache(maxsize=4096)
def _offset(quarter_hour: int) -> int:
    # zone offsets only change on quarter-hour boundaries, so cache per quarter hour
    return time.localtime(quarter_hour * 900).tm_gmtoff


def format_ns(ns: int, utc: bool = False) -> str:
    """Format epoch nanoseconds as Go's time.RFC3339Nano in the local zone (trailing zeros cut)."""
    seconds, frac = divmod(ns, 1_000_000_000)
    text, zone = _second(seconds, utc)
    if frac:
        return f"{text}.{frac:09d}".rstrip("0") + zone
    return text + zone


@lru_cache(maxsize=65536)
def _second(seconds: int, utc: bool) -> tuple[str, str]:
    # a tree walk formats three times per file, mostly within the same few seconds
    offset = 0 if utc else _offset(seconds // 900)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds + offset))
    if offset == 0:
        return text, "Z"  # Go writes Z for a zero offset, whatever the zone
    sign = "+" if offset > 0 else "-"
    offset = abs(offset)
    return text, f"{sign}{offset // 3600:02d}:{offset % 3600 // 60:02d}"


def parse_ns(text: str) -> int:
    # fast path for the common shape; anything unusual goes through the full parser
    rest = text[19:]
    if rest[:1] == ".":
        for i in range(1, len(rest)):
            if rest[i] in "Z+-z":
                frac, zone = rest[1:i], rest[i:]
                break
        else:
            return _parse_full(text)
    else:
        frac, zone = "", rest
    if frac.isdigit() or not frac:
        try:
            return _base_seconds(text[:19], zone) * 1_000_000_000 + int(frac[:9].ljust(9, "0"))
        except ValueError:
            pass
    return _parse_full(text)


@lru_cache(maxsize=8192)
def _base_seconds(base: str, zone: str) -> int:
    return _parse_full(base + zone) // 1_000_000_000


def _parse_full(text: str) -> int:
    dt = parse_datetime(text).replace(microsecond=0)
    m = _RFC3339.match(text)
    assert m is not None
    ns = (m.group(7) or "0")[:9].ljust(9, "0")
    return int(dt.timestamp()) * 1_000_000_000 + int(ns)


def parse_datetime(text: str) -> datetime:
    """The time in the zone it was written in (microseconds), as Go keeps a time's location."""
    m = _RFC3339.match(text)
    if not m:
        raise ValueError(f"not an RFC3339 time: {text!r}")
    year, month, day, hour, minute, second, frac, zone = m.groups()
    if zone in ("Z", "z"):
        tz = UTC
    else:
        sign = 1 if zone[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))
    micro = int((frac or "0")[:6].ljust(6, "0"))
    return datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=tz
    )


def now_ns() -> int:
    return time.time_ns()
