"""Removing data no snapshot needs: delete unused packs, repack partly used ones.

Order matters for crash safety (restic's design): new packs first, then the new index, then
old index files, and only then the old packs. Killed at any point, the repository still
checks: at worst packs are unreferenced or listed twice, which the next prune tidies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from backup.backends.base import FileType, NotFoundError
from backup.index import index_json
from backup.pack import DATA, TREE, Blob, open_blob
from backup.repository import Repository, RepositoryError
from backup.writer import BlobWriter

INDEX_MAX_BLOBS = 50_000


@dataclass
class PruneResult:
    packs_removed: int = 0
    packs_repacked: int = 0
    packs_kept: int = 0
    packs_written: int = 0
    bytes_freed: int = 0
    blobs_removed: int = 0
    index_files_written: int = 0
    temp_files_removed: int = 0
    notes: list[str] = field(default_factory=list)


def used_blobs(repo: Repository) -> set[tuple[str, bytes]]:
    used: set[tuple[str, bytes]] = set()
    for sid in repo.list_ids(FileType.SNAPSHOT):
        snap = repo.load_unpacked(FileType.SNAPSHOT, sid)
        stack = [bytes.fromhex(snap["tree"])]
        while stack:
            tree_id = stack.pop()
            if (TREE, tree_id) in used:
                continue
            used.add((TREE, tree_id))
            if not repo.index.has(TREE, tree_id):
                raise RepositoryError(
                    f"snapshot {sid[:8]} needs tree {tree_id.hex()} which is missing; "
                    "run `check` and repair before pruning"
                )
            for node in repo.load_tree(tree_id).get("nodes") or []:
                for blob in node.get("content") or []:
                    used.add((DATA, bytes.fromhex(blob)))
                if node.get("type") == "dir" and node.get("subtree"):
                    stack.append(bytes.fromhex(node["subtree"]))
    return used


def prune(
    repo: Repository,
    max_unused: float = 0.05,
    dry_run: bool = False,
    progress: Callable[[str], None] | None = None,
) -> PruneResult:
    say = progress or (lambda _msg: None)
    res = PruneResult()
    if not dry_run:
        # killed runs' temp files: nothing lists them, so nothing else ever frees the space
        res.temp_files_removed = len(repo.backend.remove_temp_files())
    repo.load_index()
    on_disk = dict(repo.backend.list(FileType.PACK))
    say("finding data still in use")
    used = used_blobs(repo)
    for btype, blob_id in used:
        if not repo.index.has(btype, blob_id):
            raise RepositoryError(
                f"{btype} blob {blob_id.hex()} is used but missing; run `check` before pruning"
            )

    # one surviving copy per used blob; every other copy is garbage
    owner: dict[tuple[str, bytes], str] = {}
    keep, remove, partial = [], [], []
    used_total = unused_total = 0
    unused_of: dict[str, int] = {}
    for pack_id, blobs in repo.index.packs.items():
        if pack_id not in on_disk:
            res.notes.append(f"pack {pack_id} listed in the index is missing; dropped from index")
            continue
        used_bytes = unused_bytes = 0
        for b in blobs:
            key = (b.type, b.id)
            if key in used and key not in owner:
                owner[key] = pack_id
                used_bytes += b.length
            else:
                unused_bytes += b.length
        used_total += used_bytes
        unused_total += unused_bytes
        unused_of[pack_id] = unused_bytes
        mixed = len({b.type for b in blobs}) > 1
        if used_bytes == 0:
            remove.append(pack_id)
        elif unused_bytes == 0 and not mixed:
            keep.append(pack_id)
        else:
            partial.append((pack_id, mixed))

    lost = [key for key in used if key not in owner]
    if lost:
        btype, blob_id = lost[0]
        raise RepositoryError(
            f"{len(lost)} blobs in use are only in missing packs (e.g. {btype} {blob_id.hex()}); "
            "nothing was pruned: run `check` and restore the missing packs first"
        )

    # repack the most wasteful packs until what is left unused is within the budget
    unused_left = unused_total - sum(unused_of[p] for p in remove)
    repack = []
    for pack_id, mixed in sorted(partial, key=lambda p: (not p[1], -unused_of[p[0]])):
        if mixed or unused_left > max_unused * used_total:
            repack.append(pack_id)
            unused_left -= unused_of[pack_id]
        else:
            keep.append(pack_id)
    unreferenced = [p for p in on_disk if p not in repo.index.packs]

    res.packs_removed = len(remove) + len(unreferenced)
    res.packs_repacked = len(repack)
    res.packs_kept = len(keep)
    res.bytes_freed = sum(on_disk[p] for p in remove + unreferenced + repack)
    res.blobs_removed = sum(len(repo.index.packs[p]) for p in remove)
    if dry_run or not (remove or repack or unreferenced):
        return res

    new_packs: dict[str, list[Blob]] = {}
    if repack:
        say(f"repacking {len(repack)} packs")
        writer = BlobWriter(repo, dedup_index=False, auto_index=False)
        try:
            for pack_id in repack:
                data = repo.backend.load(FileType.PACK, pack_id)
                for b in repo.index.packs[pack_id]:
                    if owner.get((b.type, b.id)) == pack_id:
                        plain = open_blob(
                            repo.key, b, memoryview(data)[b.offset : b.offset + b.length]
                        )
                        writer.save(b.type, plain)
            writer.flush()
        finally:
            writer.close()
        new_packs = writer.new_packs
        res.packs_written = len(new_packs)
        res.bytes_freed -= writer.added_bytes

    say("writing new index")
    survivors = {p: repo.index.packs[p] for p in keep}
    survivors.update(new_packs)
    old_index_files = list(repo.index.files)
    new_files = write_index_files(repo, survivors)
    res.index_files_written = len(new_files)
    for name in old_index_files:
        if name not in new_files:
            _remove(repo, FileType.INDEX, name)
    say("deleting unused packs")
    for pack_id in remove + repack + unreferenced:
        _remove(repo, FileType.PACK, pack_id)
    repo.load_index()
    return res


def write_index_files(repo: Repository, packs: dict[str, list[Blob]]) -> list[str]:
    names: list[str] = []
    batch: dict[str, list[Blob]] = {}
    count = 0
    for pack_id, blobs in packs.items():
        batch[pack_id] = blobs
        count += len(blobs)
        if count >= INDEX_MAX_BLOBS:
            names.append(repo.save_unpacked(FileType.INDEX, index_json(batch)))
            batch, count = {}, 0
    if batch:
        names.append(repo.save_unpacked(FileType.INDEX, index_json(batch)))
    return names


def _remove(repo: Repository, ftype: FileType, name: str) -> None:
    try:
        repo.backend.remove(ftype, name)
    except NotFoundError:
        pass
