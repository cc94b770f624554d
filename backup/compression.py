"""zstd framing as restic reads it (klauspost/compress decoder): plain frames, no dictionary."""

from __future__ import annotations

import threading

import zstandard

_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    c = getattr(_local, "c", None)
    if c is None:
        # ZstdCompressor objects must not be shared between threads
        c = _local.c = zstandard.ZstdCompressor(level=3, write_checksum=False)
    return c


def compress(data: bytes | bytearray | memoryview) -> bytes:
    return _compressor().compress(data)


def _decompressor() -> zstandard.ZstdDecompressor:
    d = getattr(_local, "d", None)
    if d is None:
        d = _local.d = zstandard.ZstdDecompressor()
    return d


def decompress(data: bytes | bytearray | memoryview, size: int | None = None) -> bytes:
    # restic's frames may lack a content size; the stream API copes with that
    d = _decompressor()
    if size is not None:
        return d.decompress(data, max_output_size=size)
    return d.decompressobj().decompress(data)
