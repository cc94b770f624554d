"""SMPTE time code at the file's own rate: the frame a time falls in, drop-frame at 29.97/59.94,
and parsing back to the start of the same frame."""

from __future__ import annotations

from fractions import Fraction

import pytest

from app.core.errors import Invalid
from app.reviews.timecode import frame_at, frame_start, label, parse, smpte

NTSC = Fraction(30000, 1001)


@pytest.mark.parametrize(("text", "seconds"), [("83.5", 83.5), ("1:23.5", 83.5), ("0:01:23.5", 83.5),
                                                ("", None), ("  12 ", 12.0)])  # fmt: skip
def test_seconds_still_parse(text, seconds):
    assert parse(text, "t", None) == seconds


@pytest.mark.parametrize("text", ["ten", "1:2:3:4", "-5", "nan", "1::2", "00:00:01:25"])
def test_bad_time_codes_name_the_field(text):
    with pytest.raises(Invalid) as error:
        parse(text, "t_start", Fraction(25))
    assert error.value.field == "t_start"


def test_smpte_needs_a_frame_rate():
    with pytest.raises(Invalid, match="no frame rate"):
        parse("00:00:01:12", "t_start", None)


@pytest.mark.parametrize(("frame", "rate", "text"), [
    (0, Fraction(25), "00:00:00:00"), (37, Fraction(25), "00:00:01:12"),
    (90000, Fraction(25), "01:00:00:00"), (47, Fraction(24000, 1001), "00:00:01:23"),
    (1799, NTSC, "00:00:59;29"), (1800, NTSC, "00:01:00;02"), (17982, NTSC, "00:10:00;00"),
    (107892, NTSC, "01:00:00;00"), (3600, Fraction(60000, 1001), "00:01:00;04"),
])  # fmt: skip
def test_known_time_codes(frame, rate, text):
    assert smpte(frame, rate) == text
    assert frame_at(parse(text, "t", rate), rate) == frame


@pytest.mark.parametrize("rate", [Fraction(25), Fraction(24000, 1001), NTSC, Fraction(50)])
def test_every_frame_round_trips(rate):
    for frame in range(0, 40000, 7):
        seconds = frame_start(frame, rate)
        assert frame_at(seconds, rate) == frame
        assert frame_at(parse(smpte(frame, rate), "t", rate), rate) == frame


def test_label_falls_back_to_milliseconds_without_a_rate():
    assert label(83.5, None) == "00:01:23.500"
    assert label(1.5, Fraction(25)) == "00:00:01:12"
    assert label(None, Fraction(25)) == ""
