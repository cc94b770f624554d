"""Content-defined chunking with pyfastcdc (FastCDC 2020, a compiled Cython wheel).

restic uses Rabin fingerprints with a per-repository random polynomial; no maintained PyPI
wheel implements that, so this engine uses FastCDC with restic's size bounds (min 512 KiB,
max 8 MiB, mean ~1.5 MiB) and a gear table keyed by the repository's polynomial, which keeps
chunk boundaries repository-specific just like restic's. Repositories stay fully valid for
restic; only dedup between restic-written and engine-written copies of a file is lost.

The file is read in large windows and only the cut search runs in pyfastcdc (without the
GIL). pyfastcdc's own stream reader moves up to 8 MiB of its buffer with the GIL held after
every chunk, which serialised the chunking threads; here chunks are views into the window
and only the unfinished tail is copied once per window. Cut points are the same as the
stream reader's: a cut is searched only with at least MAX_SIZE bytes ahead, or at the end.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator

from pyfastcdc import FastCDC

MIN_SIZE = 512 * 1024
AVG_SIZE = 1024 * 1024  # FastCDC's real mean is avg + min, ~1.5 MiB like restic's
MAX_SIZE = 8 * 1024 * 1024
WINDOW = 2 * MAX_SIZE


class Chunker:
    def __init__(self, polynomial: int) -> None:
        self._cdc = FastCDC(AVG_SIZE, min_size=MIN_SIZE, max_size=MAX_SIZE, seed=polynomial)

    def chunks(self, path: str | bytes) -> Iterator[memoryview]:
        """Yield the file's chunks as read-only views; each stays valid while referenced."""
        with open(path, "rb", buffering=0) as f:
            expected = os.fstat(f.fileno()).st_size
            done = 0  # bytes read so far
            carry = memoryview(b"")
            while True:
                # size the window to the file (+1 to see its end), so small files stay small;
                # a file that grew past its size at open is read on in full windows (sizing
                # by the stale size read one byte per window, copying the carry each time)
                ahead = expected - done + 1 if done < expected else WINDOW
                size = max(len(carry) + 1, min(WINDOW, len(carry) + ahead))
                # anonymous memory: pages are zeroed by the kernel inside read(), without the
                # GIL, where bytearray(size) would memset the whole window holding it
                view = memoryview(mmap.mmap(-1, size))
                n = len(carry)
                view[:n] = carry
                eof = False
                while n < size:
                    got = f.readinto(view[n:])
                    if not got:
                        eof = True
                        break
                    n += got
                done += n - len(carry)
                view = view[:n].toreadonly()
                pos = 0
                while n - pos >= MAX_SIZE or (eof and pos < n):
                    chunk = next(self._cdc.cut_buf(view[pos:]))
                    yield chunk.data
                    pos += chunk.length
                if eof:
                    return
                carry = view[pos:]
