"""Content-defined chunking with pyfastcdc (FastCDC 2020, a compiled Cython wheel).

restic uses Rabin fingerprints with a per-repository random polynomial; no maintained PyPI
wheel implements that, so this engine uses FastCDC with restic's size bounds (min 512 KiB,
max 8 MiB, mean ~1.5 MiB) and a gear table keyed by the repository's polynomial, which keeps
chunk boundaries repository-specific just like restic's. Repositories stay fully valid for
restic; only dedup between restic-written and engine-written copies of a file is lost.
"""

from __future__ import annotations

from collections.abc import Iterator

from pyfastcdc import FastCDC

MIN_SIZE = 512 * 1024
AVG_SIZE = 1024 * 1024  # FastCDC's real mean is avg + min, ~1.5 MiB like restic's
MAX_SIZE = 8 * 1024 * 1024


class Chunker:
    def __init__(self, polynomial: int) -> None:
        self._cdc = FastCDC(AVG_SIZE, min_size=MIN_SIZE, max_size=MAX_SIZE, seed=polynomial)

    def chunks(self, path: str | bytes, size: int) -> Iterator[bytes]:
        """Yield the file's chunks as independent bytes objects (safe to hand to threads)."""
        if size < MIN_SIZE:
            with open(path, "rb") as f:
                yield f.read()
            return
        with open(path, "rb") as f:
            for chunk in self._cdc.cut_stream(f):
                yield bytes(chunk.data)
