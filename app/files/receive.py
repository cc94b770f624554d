"""A request body to a file: written in large blocks off the event loop, hashed on the way,
limits enforced while reading, so memory stays flat whatever the size."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from typing import BinaryIO

import anyio.to_thread

from app.files.errors import Refused, disk_full
from app.files.sniff import SNIFF_BYTES

BLOCK = 1 << 20


class Disconnected(Exception):
    """The client went away before the body was complete."""


def _write(out: BinaryIO, digest: hashlib._Hash | None, data: bytes) -> None:
    try:
        out.write(data)
        if digest is not None:
            digest.update(data)
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full() from None
        raise


def fsync(out: BinaryIO) -> None:
    try:
        out.flush()
        os.fsync(out.fileno())
    except OSError as error:
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full() from None
        raise


async def receive(
    chunks: AsyncIterator[bytes],
    out: BinaryIO,
    digest: hashlib._Hash | None,
    limit: int,
    on_limit: Callable[[], Refused],
    check_head: Callable[[bytes], None] | None = None,
) -> int:
    """Append the body to `out`; returns the byte count. Past `limit` raises on_limit(); a client
    disconnect raises Disconnected after what arrived is written (resumable uploads keep it)."""
    from starlette.requests import ClientDisconnect

    size, buffer, head_done = 0, bytearray(), check_head is None
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise on_limit()
            buffer += chunk
            if not head_done and len(buffer) >= SNIFF_BYTES:
                check_head(bytes(buffer[:SNIFF_BYTES]))  # type: ignore[misc]
                head_done = True
            if len(buffer) >= BLOCK:
                data, buffer = bytes(buffer), bytearray()
                await anyio.to_thread.run_sync(_write, out, digest, data)
    except ClientDisconnect:
        if buffer:
            await anyio.to_thread.run_sync(_write, out, digest, bytes(buffer))
        raise Disconnected() from None
    if not head_done:
        check_head(bytes(buffer))  # type: ignore[misc]
    if buffer:
        await anyio.to_thread.run_sync(_write, out, digest, bytes(buffer))
    return size
