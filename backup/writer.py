"""Saving blobs: dedup against the index, seal in worker threads, pack, upload, then index.

zstd, SHA-256 and the chunker's cut search release the GIL, so worker threads spread the
per-blob work over the cores; large files are cut in their own threads and their chunks
sealed here too. Sealed blobs may arrive from any thread (`accept`); packs
are finished and uploaded in their own threads, and each upload is recorded in the index.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from backup.backends.base import BackendError, FileType
from backup.index import index_json
from backup.pack import DATA, TREE, Blob, PackBuilder, seal_blob
from backup.repository import Repository

PACK_SIZE = 16 * 1024 * 1024
# restic closes a pack when its header would no longer fit; far above what 16 MiB packs reach
MAX_BLOBS_PER_PACK = 100_000
# write an index every so many packs, so a crash mid-backup keeps most uploaded data usable
INDEX_EVERY_PACKS = 64
# packs finished but not yet stored: bounds memory while the network is slower than the CPU
MAX_PENDING_UPLOADS = 3

# (blob id, sealed pieces or None when already stored, uncompressed length, plaintext size)
Sealed = tuple[bytes, tuple[bytes, ...] | None, int, int]


# like restic: reading a file for a backup should not dirty its inode (where permitted)
_NOATIME = getattr(os, "O_NOATIME", 0)


def read_small(path: bytes | str, size: int) -> bytes:
    """A whole small file with plain reads: no file object, no buffering layer."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOATIME)
    except PermissionError:
        if not _NOATIME:
            raise
        fd = os.open(path, os.O_RDONLY)  # O_NOATIME needs ownership: not ours to keep atime
    try:
        data = os.read(fd, size + 1)
        if not data:
            return data
        # until read says end of file: it may have grown since stat (or a read came short)
        parts = [data]
        while more := os.read(fd, 1 << 20):
            parts.append(more)
        return data if len(parts) == 1 else b"".join(parts)
    finally:
        os.close(fd)


class BlobWriter:
    def __init__(
        self,
        repo: Repository,
        workers: int | None = None,
        pack_size: int = PACK_SIZE,
        dedup_index: bool = True,
        auto_index: bool = True,
        dry_run: bool = False,
    ) -> None:
        self.repo = repo
        # --dry-run: everything is read, cut and sealed (to count what would be added), but
        # nothing is stored
        self.dry_run = dry_run
        # prune repacks blobs the index already lists (in packs about to go): no dedup there
        self.dedup_index = dedup_index
        self.auto_index = auto_index
        self.new_packs: dict[str, list[Blob]] = {}
        self.pack_size = pack_size
        n = workers or min(4, os.cpu_count() or 2)
        self._seal_pool = ThreadPoolExecutor(n, thread_name_prefix="seal")
        self._upload_pool = ThreadPoolExecutor(2, thread_name_prefix="upload")
        self._sealing: deque[tuple[str, Future]] = deque()
        self._lock = threading.Lock()  # pending set and index
        self._pack_lock = threading.Lock()  # packers and counters
        self._upload_slots = threading.Semaphore(MAX_PENDING_UPLOADS)
        self._uploading: deque[Future] = deque()
        self._packers = {DATA: PackBuilder(repo.key), TREE: PackBuilder(repo.key)}
        self._pending: dict[str, set[bytes]] = {DATA: set(), TREE: set()}
        self._unindexed: dict[str, list[Blob]] = {}
        self.max_in_flight = n * 4
        self.added_bytes = 0  # bytes uploaded in packs (compressed + encrypted)
        self.added_plain = 0
        self.new_blobs = {DATA: 0, TREE: 0}
        self.index_ids: list[str] = []

    def known(self, btype: str, blob_id: bytes) -> bool:
        with self._lock:
            return blob_id in self._pending[btype] or self.repo.index.has(btype, blob_id)

    def process(self, btype: str, data: bytes | memoryview) -> Sealed:
        """Hash, dedup and seal one blob (any thread). None instead of bytes if already stored."""
        blob_id = hashlib.sha256(data).digest()
        with self._lock:
            if blob_id in self._pending[btype] or (
                self.dedup_index and self.repo.index.has(btype, blob_id)
            ):
                return blob_id, None, 0, len(data)
            self._pending[btype].add(blob_id)
        sealed, ulen = seal_blob(self.repo.key, data, compress=self.repo.version >= 2)
        return blob_id, sealed, ulen, len(data)

    def accept(self, btype: str, result: Sealed) -> None:
        """Put a sealed blob into the current pack of its type (any thread)."""
        blob_id, sealed, ulen, size = result
        if sealed is None:
            return
        full = None
        with self._pack_lock:
            self.new_blobs[btype] += 1
            self.added_plain += size
            packer = self._packers[btype]
            packer.add(blob_id, btype, sealed, ulen)
            if len(packer) >= self.pack_size or len(packer.blobs) >= MAX_BLOBS_PER_PACK:
                full = packer
                self._packers[btype] = PackBuilder(self.repo.key)
        if full is not None:
            self._submit_upload(full)

    def _submit_upload(self, packer: PackBuilder) -> None:
        self._upload_slots.acquire()
        fut = self._upload_pool.submit(self._finish_pack, packer)
        with self._pack_lock:
            self._uploading.append(fut)
            done = []
            while self._uploading and self._uploading[0].done():
                done.append(self._uploading.popleft())
        for f in done:
            f.result()  # a failed upload stops the backup now, not at the end

    def _finish_pack(self, packer: PackBuilder) -> None:
        try:
            # header sealing and the pack's SHA-256 run here, off the threads that feed packs
            pack_id, data, blobs = packer.finalize()
            if not self.dry_run:
                self.repo.check_guards()
                self.repo.backend.save(FileType.PACK, pack_id, data)
            write_index = False
            with self._lock:
                self.added_bytes += len(data)
                self.repo.index.add_pack(pack_id, blobs)
                for b in blobs:
                    self._pending[b.type].discard(b.id)
                self.new_packs[pack_id] = blobs
                self._unindexed[pack_id] = blobs
                write_index = self.auto_index and len(self._unindexed) >= INDEX_EVERY_PACKS
            if write_index:
                self._write_index()
        finally:
            self._upload_slots.release()

    def _process_file(self, path: bytes | str, size: int) -> Sealed:
        return self.process(DATA, read_small(path, size))

    def _queue(self, btype: str, fut: Future) -> Future:
        self._sealing.append((btype, fut))
        while len(self._sealing) > self.max_in_flight:
            self._drain_one_sealed()
        return fut

    def save(self, btype: str, data: bytes) -> Future:
        """Hash, dedup and seal a blob in a worker; the future's result is a `Sealed`.

        `data` must not be mutated afterwards.
        """
        return self._queue(btype, self._seal_pool.submit(self.process, btype, data))

    def save_blob(self, btype: str, data: bytes | memoryview) -> Future:
        """Hash, seal and pack one blob in a worker; the future gives (blob id, size)."""
        return self._seal_pool.submit(self._save_blob, btype, data)

    def _save_blob(self, btype: str, data: bytes | memoryview) -> tuple[bytes, int]:
        result = self.process(btype, data)
        self.accept(btype, result)
        return result[0], result[3]

    def save_small_files(self, files: list[tuple[bytes, int]]) -> Future:
        """Many small files (path, size from stat) in one worker task: each becomes one data
        blob, packed right there.

        The future's result has, per path, (blob id, size) or the OSError that reading raised.
        One task per batch instead of per file keeps the feeding thread's overhead small.
        """
        return self._seal_pool.submit(self._small_batch, files)

    def _small_batch(self, files: list[tuple[bytes, int]]) -> list[tuple[bytes, int] | OSError]:
        out: list[tuple[bytes, int] | OSError] = []
        for path, size in files:
            try:
                result = self._process_file(path, size)
            except OSError as e:
                out.append(e)
                continue
            self.accept(DATA, result)
            out.append((result[0], result[3]))
        return out

    def save_sync(self, btype: str, data: bytes) -> bytes:
        # in the calling thread: a tree is small, and handing it to a worker and waiting
        # costs more than hashing it (unchanged trees are never even sealed)
        result = self.process(btype, data)
        self.accept(btype, result)
        return result[0]

    def _drain_one_sealed(self) -> None:
        btype, fut = self._sealing.popleft()
        try:
            result = fut.result()
        except OSError:
            return  # the archiver reports unreadable files when it collects this future
        self.accept(btype, result)

    def _write_index(self) -> None:
        with self._lock:
            batch, self._unindexed = self._unindexed, {}
        if not batch or self.dry_run:
            return
        name = self.repo.save_unpacked(FileType.INDEX, index_json(batch))
        with self._lock:
            self.repo.index.files[name] = list(batch)
            self.index_ids.append(name)

    def flush(self) -> None:
        """Upload everything queued and write the index that makes it visible."""
        while self._sealing:
            self._drain_one_sealed()
        for btype in (DATA, TREE):
            with self._pack_lock:
                packer = self._packers[btype]
                self._packers[btype] = PackBuilder(self.repo.key)
            if packer.blobs:
                self._submit_upload(packer)
        while True:
            with self._pack_lock:
                if not self._uploading:
                    break
                fut = self._uploading.popleft()
            fut.result()
        if self.auto_index:
            self._write_index()

    def abort(self) -> None:
        """After a failure: remove the packs this writer stored that no index names yet, so a
        failed run (a full disk) leaves the repository with the space it had."""
        self._upload_pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            orphans, self._unindexed = list(self._unindexed), {}
        for pack_id in orphans:
            try:
                self.repo.backend.remove(FileType.PACK, pack_id)
            except BackendError:
                pass  # the next prune finds it unreferenced

    def close(self) -> None:
        self._seal_pool.shutdown(wait=True, cancel_futures=True)
        self._upload_pool.shutdown(wait=True, cancel_futures=True)
