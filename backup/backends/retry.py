"""Retries with exponential backoff around any backend, for transient network failures."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from backup.backends.base import Backend, BackendError, FileType, NotFoundError

log = logging.getLogger(__name__)
T = TypeVar("T")


class RetryingBackend(Backend):
    def __init__(
        self,
        inner: Backend,
        transient: Callable[[BaseException], bool],
        attempts: int = 6,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.inner = inner
        self.transient = transient
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except (NotFoundError, BackendError):
                raise
            except Exception as e:
                if not self.transient(e):
                    raise BackendError(f"{self.location()}: {what}: {e}") from e
                if attempt == self.attempts:
                    raise BackendError(
                        f"{self.location()}: {what} failed after {attempt} attempts "
                        f"(is the backend reachable?): {e}"
                    ) from e
                delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                delay *= random.uniform(0.8, 1.2)  # jitter: parallel uploads do not retry in step
                log.warning("%s: %s (attempt %d, retrying in %.1fs)", what, e, attempt, delay)
                reset = getattr(self.inner, "reset", None)
                if reset is not None:
                    reset()
                self.sleep(delay)
        raise AssertionError("unreachable")

    def location(self) -> str:
        return self.inner.location()

    def create(self) -> None:
        self._call("create", self.inner.create)

    def save(self, ftype: FileType, name: str, data: bytes) -> None:
        self._call(f"save {ftype.value}/{name[:8]}", lambda: self.inner.save(ftype, name, data))

    def load(self, ftype: FileType, name: str, offset: int = 0, length: int | None = None) -> bytes:
        return self._call(
            f"load {ftype.value}/{name[:8]}", lambda: self.inner.load(ftype, name, offset, length)
        )

    def list(self, ftype: FileType) -> Iterator[tuple[str, int]]:
        # materialised so a failure mid-listing is retried as a whole
        return iter(self._call(f"list {ftype.value}", lambda: list(self.inner.list(ftype))))

    def remove(self, ftype: FileType, name: str) -> None:
        self._call(f"remove {ftype.value}/{name[:8]}", lambda: self.inner.remove(ftype, name))

    def exists(self, ftype: FileType, name: str) -> bool:
        return self._call(f"stat {ftype.value}/{name[:8]}", lambda: self.inner.exists(ftype, name))

    def remove_temp_files(self) -> list[str]:
        return self._call("remove temp files", self.inner.remove_temp_files)

    def close(self) -> None:
        self.inner.close()
