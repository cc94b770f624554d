"""The windowed chunker cuts exactly where pyfastcdc's own stream reader does."""

from __future__ import annotations

import os
import random

import pytest
from pyfastcdc import FastCDC

from backup.chunker import AVG_SIZE, MAX_SIZE, MIN_SIZE, WINDOW, Chunker

POLY = 0x3DA3358B4DC173


@pytest.mark.parametrize(
    "size",
    [0, 1, MIN_SIZE - 1, MIN_SIZE + 1, MAX_SIZE, WINDOW - 1, WINDOW + 3, 3 * WINDOW + 7],
)
def test_same_cut_points_as_the_stream_reader(tmp_path, size):
    # random bytes cut by content; runs of zeros only at the maximum size
    rng = random.Random(size)
    data = bytearray(rng.randbytes(size))
    data[size // 3 : size // 3 + MAX_SIZE + 5] = bytes(
        len(data[size // 3 : size // 3 + MAX_SIZE + 5])
    )
    path = tmp_path / "f"
    path.write_bytes(data)
    cdc = FastCDC(AVG_SIZE, min_size=MIN_SIZE, max_size=MAX_SIZE, seed=POLY)
    with open(path, "rb") as f:
        expected = [bytes(c.data) for c in cdc.cut_stream(f)]
    got = [bytes(c) for c in Chunker(POLY).chunks(path)]
    assert got == expected
    assert b"".join(got) == bytes(data)


def test_chunks_stay_valid_after_the_next_window_is_read(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(os.urandom(3 * WINDOW))
    chunks = list(Chunker(POLY).chunks(path))  # every view kept alive at once
    assert b"".join(bytes(c) for c in chunks) == path.read_bytes()
