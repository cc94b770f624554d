"""Repository consistency checks, mirroring `restic check [--read-data]`."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from backup.backends.base import BackendError, FileType
from backup.crypto import CryptoError
from backup.pack import DATA, TREE, PackError, decode_header, open_blob
from backup.repository import Repository, RepositoryError
from backup.tree import node_name


@dataclass
class CheckResult:
    errors: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    packs: int = 0
    snapshots: int = 0
    packs_read: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def expected_pack_size(blobs: list) -> int:
    header = sum(41 if b.uncompressed_length else 37 for b in blobs)
    return sum(b.length for b in blobs) + header + 32 + 4


def check(
    repo: Repository,
    read_data: bool = False,
    progress: Callable[[int, int], None] | None = None,
    subset: str | None = None,
) -> CheckResult:
    """`subset` reads only part of the data, as restic's --read-data-subset: "n/t" (the n-th
    of t groups by pack ID, so t runs cover everything) or "p%" (a random share)."""
    res = CheckResult()
    pick = _subset_filter(subset) if subset else None
    try:
        repo.load_index()
    except (RepositoryError, CryptoError, BackendError, ValueError) as e:
        res.errors.append(f"loading index: {e}")
        return res
    on_disk = dict(repo.backend.list(FileType.PACK))
    res.packs = len(repo.index.packs)
    for pack_id, blobs in repo.index.packs.items():
        if pack_id not in on_disk:
            res.errors.append(f"pack {pack_id}: referenced in index but missing")
        elif on_disk[pack_id] != expected_pack_size(blobs):
            res.errors.append(
                f"pack {pack_id}: unexpected file size {on_disk[pack_id]}, "
                f"index says {expected_pack_size(blobs)}"
            )
        if len({b.type for b in blobs}) > 1:
            res.hints.append(f"pack {pack_id}: mixed data and tree blobs (prune fixes this)")
    unindexed = sorted(on_disk.keys() - repo.index.packs.keys())

    _check_snapshots(repo, res)
    for pack_id in unindexed:
        if res.errors:
            # snapshots miss data: these packs may hold the only copy of it
            res.hints.append(
                f"pack {pack_id}: not referenced in any index; it may hold data the "
                "snapshots above miss: run `repair index` before any prune"
            )
        else:
            res.hints.append(f"pack {pack_id}: not referenced in any index (prune removes it)")

    if read_data or pick:
        chosen = sorted(p for p in repo.index.packs.items() if pick is None or pick(p[0]))
        total = len(chosen)
        for n, (pack_id, blobs) in enumerate(chosen, 1):
            if pack_id in on_disk:
                _read_pack(repo, pack_id, blobs, res)
                res.packs_read += 1
            if progress:
                progress(n, total)
    return res


def _subset_filter(subset: str) -> Callable[[str], bool]:
    text = subset.strip()
    try:
        if text.endswith("%"):
            share = float(text[:-1]) / 100
            if not 0 < share <= 1:
                raise ValueError
            return lambda _pack_id: random.random() < share
        n, t = (int(x) for x in text.split("/"))
        if not 1 <= n <= t:
            raise ValueError
    except ValueError as e:
        raise ValueError(f"read-data subset {subset!r}: expected n/t (1 <= n <= t) or p%") from e
    # restic's grouping: the first byte of the pack ID, modulo the number of groups
    return lambda pack_id: int(pack_id[:2], 16) % t == n - 1


def _check_snapshots(repo: Repository, res: CheckResult) -> None:
    seen: set[bytes] = set()
    for sid in repo.list_ids(FileType.SNAPSHOT):
        try:
            snap = repo.load_unpacked(FileType.SNAPSHOT, sid)
        except (RepositoryError, CryptoError, BackendError, ValueError) as e:
            res.errors.append(f"snapshot {sid}: {e}")
            continue
        res.snapshots += 1
        stack = [(bytes.fromhex(snap["tree"]), f"snapshot {sid[:8]}")]
        while stack:
            tree_id, where = stack.pop()
            if tree_id in seen:
                continue
            seen.add(tree_id)
            if not repo.index.has(TREE, tree_id):
                res.errors.append(f"{where}: tree {tree_id.hex()} not in index")
                continue
            try:
                tree = repo.load_tree(tree_id)
            except (PackError, CryptoError, BackendError, ValueError) as e:
                res.errors.append(f"{where}: tree {tree_id.hex()}: {e}")
                continue
            for node in tree.get("nodes") or []:
                name = node_name(node).decode("utf-8", "replace")
                path = f"{where}/{name}"
                ntype = node.get("type")
                if not name:
                    res.errors.append(f"{where}: node with empty name")
                elif ntype == "file":
                    if node.get("content") is None:
                        res.errors.append(f"{path}: file has nil blob list")
                    for blob in node.get("content") or []:
                        if not repo.index.has(DATA, bytes.fromhex(blob)):
                            res.errors.append(f"{path}: data blob {blob} not in index")
                elif ntype == "dir":
                    if not node.get("subtree"):
                        res.errors.append(f"{path}: directory without subtree")
                    else:
                        stack.append((bytes.fromhex(node["subtree"]), path))
                elif ntype not in ("symlink", "dev", "chardev", "fifo", "socket"):
                    res.errors.append(f"{path}: unknown node type {ntype!r}")


def _read_pack(repo: Repository, pack_id: str, blobs: list, res: CheckResult) -> None:
    try:
        data = repo.backend.load(FileType.PACK, pack_id)
    except BackendError as e:
        res.errors.append(f"pack {pack_id}: cannot read: {e}")
        return
    if hashlib.sha256(data).hexdigest() != pack_id:
        res.errors.append(f"pack {pack_id}: content does not match its ID (corrupted)")
    try:
        hlen = int.from_bytes(data[-4:], "little")
        header = decode_header(repo.key.open(data[-4 - hlen : -4]))
    except (CryptoError, PackError, ValueError) as e:
        res.errors.append(f"pack {pack_id}: unreadable header: {e}")
        return
    if sorted(header, key=lambda b: b.offset) != sorted(blobs, key=lambda b: b.offset):
        res.errors.append(f"pack {pack_id}: header does not match the index")
    for blob in header:
        try:
            open_blob(repo.key, blob, memoryview(data)[blob.offset : blob.offset + blob.length])
        except Exception as e:  # noqa: BLE001 - zstd, crypto and format errors all mean corruption
            res.errors.append(f"pack {pack_id}: {blob.type} blob {blob.id.hex()}: {e}")
