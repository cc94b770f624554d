"""`repair index` (alias `rebuild-index`): a new index built from the packs themselves.

Used when index files are lost or damaged: every pack's header is read (it lists the pack's
blobs), new index files are written, and only then are the old ones removed, so a crash at
any point leaves at least one complete index. Packs whose header cannot be read are left in
place and reported; nothing here deletes data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from backup.backends.base import BackendError, FileType, NotFoundError
from backup.crypto import CryptoError
from backup.pack import Blob, PackError
from backup.prune import write_index_files
from backup.repository import Repository


@dataclass
class RepairResult:
    packs_indexed: int = 0
    blobs_indexed: int = 0
    index_files_written: int = 0
    index_files_removed: int = 0
    unreadable_packs: list[str] = field(default_factory=list)


def rebuild_index(
    repo: Repository, progress: Callable[[int, int], None] | None = None
) -> RepairResult:
    res = RepairResult()
    old = repo.list_ids(FileType.INDEX)
    packs = sorted(repo.backend.list(FileType.PACK))
    found: dict[str, list[Blob]] = {}
    for n, (pack_id, size) in enumerate(packs, 1):
        try:
            found[pack_id] = repo.read_pack_header(pack_id, size)
        except (PackError, CryptoError, BackendError, ValueError) as e:
            res.unreadable_packs.append(f"{pack_id}: {e}")
        if progress:
            progress(n, len(packs))
    new = write_index_files(repo, found) if found else []
    res.index_files_written = len(new)
    res.packs_indexed = len(found)
    res.blobs_indexed = sum(len(b) for b in found.values())
    for name in old:
        if name not in new:
            try:
                repo.backend.remove(FileType.INDEX, name)
            except NotFoundError:
                pass
            res.index_files_removed += 1
    repo.load_index()
    return res
