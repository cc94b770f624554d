"""`copy`: snapshots from one repository into another, as restic copies them.

Blobs move as plaintext (decrypted with the source's key, sealed with the destination's), so
the repositories need not share keys or chunker parameters; blobs the destination already
has are not copied. A snapshot the destination already holds (same original ID and the same
time, tree, host, user, paths, tags and excludes) is skipped; a copy records the source
snapshot's ID as `original` and drops `parent`, as restic does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backup.backends.base import FileType
from backup.pack import DATA, TREE
from backup.repository import Repository
from backup.snapshots import Snapshot
from backup.writer import BlobWriter


@dataclass
class CopyResult:
    copied: list[str] = field(default_factory=list)  # new IDs in the destination
    skipped: list[str] = field(default_factory=list)  # source IDs already there
    blobs: int = 0


def _similar(a: dict, b: dict) -> bool:
    keys = ("time", "tree", "hostname", "username", "uid", "gid")
    if any(a.get(k) != b.get(k) for k in keys):
        return False
    return (
        sorted(a.get("paths") or []) == sorted(b.get("paths") or [])
        and sorted(a.get("tags") or []) == sorted(b.get("tags") or [])
        and (a.get("excludes") or []) == (b.get("excludes") or [])
    )


def copy_snapshots(src: Repository, dst: Repository, snaps: list[Snapshot]) -> CopyResult:
    res = CopyResult()
    src.load_index()
    dst.load_index()
    present: dict[str, list[dict]] = {}
    for sid, snap in dst.snapshots():
        present.setdefault(snap.get("original", sid), []).append(snap)
        present.setdefault(sid, []).append(snap)
    writer = BlobWriter(dst)
    visited: set[bytes] = set()
    try:
        for sid, snap in snaps:
            if any(_similar(snap, d) for d in present.get(snap.get("original", sid), [])):
                res.skipped.append(sid)
                continue
            stack = [bytes.fromhex(snap["tree"])]
            while stack:
                tree_id = stack.pop()
                if tree_id in visited:
                    continue
                visited.add(tree_id)
                raw = src.load_blob(TREE, tree_id)
                if not writer.known(TREE, tree_id):
                    writer.save_sync(TREE, raw)
                    res.blobs += 1
                for node in src.load_tree(tree_id).get("nodes") or []:
                    for blob in node.get("content") or []:
                        blob_id = bytes.fromhex(blob)
                        if not writer.known(DATA, blob_id):
                            writer.save_sync(DATA, src.load_blob(DATA, blob_id))
                            res.blobs += 1
                    if node.get("type") == "dir" and node.get("subtree"):
                        stack.append(bytes.fromhex(node["subtree"]))
            writer.flush()  # data and index first, the snapshot that names them last
            doc = {k: v for k, v in snap.items() if k != "parent"}
            doc.setdefault("original", sid)
            res.copied.append(dst.save_unpacked(FileType.SNAPSHOT, doc))
    except BaseException:
        writer.abort()
        raise
    finally:
        writer.close()
    return res
