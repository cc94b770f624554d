"""A one-line progress display for terminals; silent when output is piped or JSON."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool = True, every: float = 0.2):
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.every = every
        self.start = time.monotonic()
        self._last = 0.0
        self.files = 0
        self.bytes = 0
        self.total_bytes: int | None = None

    def update(self, files: int = 0, nbytes: int = 0, force: bool = False) -> None:
        self.files += files
        self.bytes += nbytes
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.every:
            return
        self._last = now
        elapsed = int(now - self.start)
        line = (
            f"[{elapsed // 60}:{elapsed % 60:02d}] {self.files} files {self.bytes / 2**20:.1f} MiB"
        )
        if self.total_bytes:
            pct = min(100.0, 100.0 * self.bytes / self.total_bytes)
            line += f" of {self.total_bytes / 2**20:.1f} MiB ({pct:.0f}%)"
        self.stream.write("\r" + line + "\x1b[K")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            self.update(force=True)
            self.stream.write("\n")
            self.stream.flush()
