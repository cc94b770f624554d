"""find, diff, dump, cat, stats: looking into snapshots and the repository, as restic does."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import tarfile
from typing import Any

import click

from backup.cli.base import (
    Settings,
    clean_errors,
    cli,
    emit,
    pass_settings,
    selection,
    snapshot_filter_options,
)

_POLY1305_MASK = bytes.fromhex("ffffff0ffcffff0ffcffff0ffcffff0f")


def _nodes(repo, tree_id: bytes) -> list[dict]:  # noqa: ANN001 - a Repository
    return repo.load_tree(tree_id).get("nodes") or []


@cli.command()
@click.argument("patterns", nargs=-1, required=True)
@click.option("-i", "--ignore-case", is_flag=True, help="Match ignoring case.")
@click.option("-s", "--snapshot", "snapshot_ids", multiple=True, help="Only in this snapshot.")
@snapshot_filter_options
@pass_settings
@clean_errors
def find(
    s: Settings,
    patterns: tuple[str, ...],
    ignore_case: bool,
    snapshot_ids: tuple[str, ...],
    **kw: Any,
) -> None:
    """Find files and directories whose path matches a pattern, in every snapshot."""
    from backup.patterns import Pattern, validate
    from backup.snapshots import by_time, resolve_snapshot
    from backup.tree import node_name

    validate(patterns)
    pats = [Pattern.parse(p.lower() if ignore_case else p) for p in patterns]
    chosen = selection(kw)
    repo = s.open()
    repo.load_index()
    if snapshot_ids:
        snaps = [resolve_snapshot(repo, ref) for ref in snapshot_ids]
    else:
        snaps = by_time(chosen.select(repo.snapshots()))
    results = []

    def walk(tree_id: bytes, prefix: str, hits: list[dict]) -> None:
        for node in _nodes(repo, tree_id):
            path = prefix + "/" + os.fsdecode(node_name(node))
            comps = ["/", *(path.lower() if ignore_case else path).split("/")[1:]]
            if any(p.match(comps) for p in pats):
                hits.append({"path": path, "type": node.get("type"), "size": node.get("size", 0)})
            if node.get("type") == "dir" and node.get("subtree"):
                if any(p.child_may_match(comps) for p in pats):
                    walk(bytes.fromhex(node["subtree"]), path, hits)

    for sid, snap in snaps:
        hits: list[dict] = []
        walk(bytes.fromhex(snap["tree"]), "", hits)
        if hits:
            results.append({"matches": hits, "hits": len(hits), "snapshot": sid})

    def text() -> str:
        lines = []
        for r in results:
            lines.append(f"Found matching entries in snapshot {r['snapshot'][:8]}")
            lines += [m["path"] for m in r["matches"]]
            lines.append("")
        return "\n".join(lines).rstrip("\n")

    emit(s, results, text)


def _content_differs(a: dict, b: dict) -> bool:
    return (a.get("content") or []) != (b.get("content") or [])


@cli.command()
@click.argument("first")
@click.argument("second")
@click.option("--metadata", is_flag=True, help="Also show files whose metadata changed (U).")
@pass_settings
@clean_errors
def diff(s: Settings, first: str, second: str, metadata: bool) -> None:
    """Show what changed between two snapshots: + added, - removed, M content, T type,
    U metadata (with --metadata)."""
    from backup.snapshots import resolve_snapshot
    from backup.tree import node_name

    repo = s.open()
    repo.load_index()
    id1, snap1 = resolve_snapshot(repo, first)
    id2, snap2 = resolve_snapshot(repo, second)
    changes: list[tuple[str, str]] = []

    def show_all(tree_id: bytes, prefix: str, mod: str) -> None:
        for node in _nodes(repo, tree_id):
            name = prefix.rstrip("/") + "/" + os.fsdecode(node_name(node))
            if node.get("type") == "dir":
                name += "/"
            changes.append((mod, name))
            if node.get("type") == "dir" and node.get("subtree"):
                show_all(bytes.fromhex(node["subtree"]), name, mod)

    def compare(t1: bytes, t2: bytes, prefix: str) -> None:
        left = {node_name(n): n for n in _nodes(repo, t1)}
        right = {node_name(n): n for n in _nodes(repo, t2)}
        for raw in sorted(left.keys() | right.keys()):
            name = prefix.rstrip("/") + "/" + os.fsdecode(raw)
            a, b = left.get(raw), right.get(raw)
            if a is not None and b is not None:
                mod = "T" if a.get("type") != b.get("type") else ""
                if b.get("type") == "dir":
                    name += "/"
                if a.get("type") == "file" and b.get("type") == "file" and _content_differs(a, b):
                    mod += "M"
                elif metadata and {k: v for k, v in a.items() if k != "subtree"} != {
                    k: v for k, v in b.items() if k != "subtree"
                }:
                    mod += "U"
                if mod:
                    changes.append((mod, name))
                if (
                    a.get("type") == "dir"
                    and b.get("type") == "dir"
                    and a.get("subtree") != b.get("subtree")
                ):
                    compare(bytes.fromhex(a["subtree"]), bytes.fromhex(b["subtree"]), name)
            else:
                node, mod = (a, "-") if b is None else (b, "+")
                assert node is not None
                if node.get("type") == "dir":
                    name += "/"
                changes.append((mod, name))
                if node.get("type") == "dir" and node.get("subtree"):
                    show_all(bytes.fromhex(node["subtree"]), name, mod)

    compare(bytes.fromhex(snap1["tree"]), bytes.fromhex(snap2["tree"]), "/")
    data = [{"message_type": "change", "path": p, "modifier": m} for m, p in changes]
    emit(
        s,
        data,
        lambda: "\n".join(
            [f"comparing snapshot {id1[:8]} to {id2[:8]}:", ""] + [f"{m:<5}{p}" for m, p in changes]
        ),
    )


def _lookup(repo, snap: dict, path: str) -> dict | None:  # noqa: ANN001
    from backup.tree import node_name

    parts = [os.fsencode(p) for p in path.strip("/").split("/") if p]
    node: dict | None = {"type": "dir", "subtree": snap["tree"]}
    for part in parts:
        if node is None or node.get("type") != "dir":
            return None
        node = next(
            (n for n in _nodes(repo, bytes.fromhex(node["subtree"])) if node_name(n) == part),
            None,
        )
    return node


@cli.command()
@click.argument("snapshot")
@click.argument("path")
@snapshot_filter_options
@pass_settings
@clean_errors
def dump(s: Settings, snapshot: str, path: str, **kw: Any) -> None:
    """Write a file of a snapshot to stdout (a directory as a tar archive)."""
    from backup.pack import DATA
    from backup.snapshots import resolve_snapshot
    from backup.tree import link_target, node_name, posix_mode

    repo = s.open()
    repo.load_index()
    _, snap = resolve_snapshot(repo, snapshot, selection(kw))
    node = _lookup(repo, snap, path)
    if node is None:
        raise click.ClickException(f"{path}: no such file or directory in the snapshot")
    out = sys.stdout.buffer

    def content(n: dict):  # noqa: ANN202 - an iterator of bytes
        for blob in n.get("content") or []:
            yield repo.load_blob(DATA, bytes.fromhex(blob))

    if node.get("type") == "file":
        for chunk in content(node):
            out.write(chunk)
        out.flush()
        return
    if node.get("type") != "dir":
        raise click.ClickException(f"{path}: not a file or directory")

    class _Stream:
        def __init__(self, n: dict) -> None:
            self.parts = content(n)
            self.buf = b""

        def read(self, size: int = -1) -> bytes:
            while size < 0 or len(self.buf) < size:
                nxt = next(self.parts, None)
                if nxt is None:
                    break
                self.buf += nxt
            data, self.buf = (self.buf, b"") if size < 0 else (self.buf[:size], self.buf[size:])
            return data

    from backup.gotime import parse_ns

    with tarfile.open(fileobj=out, mode="w|") as tar:

        def add(tree_id: bytes, prefix: str) -> None:
            for n in _nodes(repo, tree_id):
                name = prefix + os.fsdecode(node_name(n))
                info = tarfile.TarInfo(name)
                info.mode = posix_mode(n.get("mode", 0))
                info.uid, info.gid = n.get("uid", 0), n.get("gid", 0)
                info.uname, info.gname = n.get("user", ""), n.get("group", "")
                info.mtime = parse_ns(n["mtime"]) // 1_000_000_000
                kind = n.get("type")
                if kind == "file":
                    info.size = n.get("size", 0)
                    tar.addfile(info, _Stream(n))
                elif kind == "dir":
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                    add(bytes.fromhex(n["subtree"]), name + "/")
                elif kind == "symlink":
                    info.type = tarfile.SYMTYPE
                    info.linkname = os.fsdecode(link_target(n))
                    tar.addfile(info)

        add(bytes.fromhex(node["subtree"]), "/" + path.strip("/") + "/" if path != "/" else "/")


@cli.command()
@click.argument("kind")
@click.argument("object_id", required=False)
@pass_settings
@clean_errors
def cat(s: Settings, kind: str, object_id: str | None) -> None:
    """Print a repository object: config, masterkey, snapshot ID, index ID, key ID, lock ID,
    blob ID (the plaintext), tree ID, or tree SNAPSHOT:PATH (restic >= 0.15 form)."""
    from backup.backends.base import FileType
    from backup.pack import DATA, TREE
    from backup.snapshots import resolve_snapshot

    repo = s.open()
    out: Any
    if kind == "config":
        out = repo.config
    elif kind == "masterkey":
        out = repo.key.to_json()
        # restic prints r clamped for Poly1305 (the same key either way)
        r = bytes(
            a & b for a, b in zip(base64.b64decode(out["mac"]["r"]), _POLY1305_MASK, strict=True)
        )
        out["mac"]["r"] = base64.b64encode(r).decode()
    elif kind in ("snapshot", "index", "lock", "key") and object_id:
        ftype = {
            "snapshot": FileType.SNAPSHOT,
            "index": FileType.INDEX,
            "lock": FileType.LOCK,
            "key": FileType.KEY,
        }[kind]
        name = resolve_snapshot(repo, object_id)[0] if kind == "snapshot" else object_id
        if kind == "key":
            out = json.loads(repo.backend.load(FileType.KEY, name))
        else:
            out = repo.load_unpacked(ftype, name)
    elif kind == "blob" and object_id:
        repo.load_index()
        blob_id = bytes.fromhex(object_id)
        btype = DATA if repo.index.has(DATA, blob_id) else TREE
        sys.stdout.buffer.write(repo.load_blob(btype, blob_id))
        sys.stdout.buffer.flush()
        return
    elif kind == "tree" and object_id and ":" not in object_id:
        repo.load_index()  # restic 0.14's form: a tree blob's ID
        out = repo.load_tree(bytes.fromhex(object_id))
    elif kind == "tree" and object_id:
        repo.load_index()
        ref, _, path = object_id.partition(":")
        _, snap = resolve_snapshot(repo, ref)
        node = _lookup(repo, snap, path or "/")
        if node is None or node.get("type") != "dir":
            raise click.ClickException(f"{object_id}: no such directory in the snapshot")
        out = repo.load_tree(bytes.fromhex(node["subtree"]))
    else:
        raise click.BadParameter(
            f"{kind!r}{'' if object_id else ' without an ID'}: expected config, masterkey, "
            "or snapshot|index|key|lock|blob ID, or tree SNAPSHOT[:PATH]",
            param_hint="KIND",
        )
    click.echo(json.dumps(out, indent=2))


@cli.command()
@click.argument("snapshot_ids", nargs=-1)
@click.option(
    "--mode",
    type=click.Choice(["restore-size", "files-by-contents", "blobs-per-file", "raw-data"]),
    default="restore-size",
    show_default=True,
    help="What to count (restic's modes).",
)
@snapshot_filter_options
@pass_settings
@clean_errors
def stats(s: Settings, snapshot_ids: tuple[str, ...], mode: str, **kw: Any) -> None:
    """Sizes and counts of snapshots (all that match, or the given ones)."""
    from backup.pack import DATA, TREE
    from backup.snapshots import resolve_snapshot

    repo = s.open()
    repo.load_index()
    if snapshot_ids:
        snaps = [resolve_snapshot(repo, ref) for ref in snapshot_ids]
    else:
        snaps = selection(kw).select(repo.snapshots())
    total_size = files = blob_count = 0
    unique_files: set[bytes] = set()
    file_blobs: dict[str, set[str]] = {}
    blobs: set[tuple[str, bytes]] = set()

    def walk(tree_id: bytes, prefix: str) -> None:
        nonlocal total_size, files, blob_count
        from backup.tree import node_name

        if mode == "raw-data":
            if (TREE, tree_id) in blobs:
                return
            blobs.add((TREE, tree_id))
        for node in _nodes(repo, tree_id):
            path = prefix + "/" + os.fsdecode(node_name(node))
            content = node.get("content") or []
            if mode == "raw-data":
                blobs.update((DATA, bytes.fromhex(c)) for c in content)
            elif mode in ("files-by-contents", "blobs-per-file"):
                fid = hashlib.sha256(b"".join(bytes.fromhex(c) for c in content)).digest()
                if fid not in unique_files:
                    unique_files.add(fid)
                    if mode == "files-by-contents":
                        total_size += node.get("size", 0)
                        files += 1
                    else:
                        for c in content:
                            if path not in file_blobs:
                                file_blobs[path] = set()
                                files += 1
                            if c not in file_blobs[path]:
                                loc = repo.index.lookup(DATA, bytes.fromhex(c))
                                assert loc is not None
                                total_size += loc.uncompressed_length or loc.length - 32
                                file_blobs[path].add(c)
                                blob_count += 1
            if node.get("type") == "dir" and node.get("subtree"):
                walk(bytes.fromhex(node["subtree"]), path)

    def walk_restore(tree_id: bytes, inodes: set[int]) -> None:
        nonlocal total_size, files
        for node in _nodes(repo, tree_id):
            files += 1
            inode = node.get("inode", 0)
            if inode not in inodes or not inode:
                inodes.add(inode)
                total_size += node.get("size", 0)
            if node.get("type") == "dir" and node.get("subtree"):
                walk_restore(bytes.fromhex(node["subtree"]), inodes)

    for _, snap in snaps:
        if mode == "restore-size":
            walk_restore(bytes.fromhex(snap["tree"]), set())
        else:
            walk(bytes.fromhex(snap["tree"]), "")
    if mode == "raw-data":
        for btype, blob_id in blobs:
            loc = repo.index.lookup(btype, blob_id)
            if loc is None:
                raise click.ClickException(f"{btype} blob {blob_id.hex()} not found")
            total_size += loc.length
            blob_count += 1
    out: dict[str, int] = {"total_size": total_size, "total_file_count": files}
    if blob_count:
        out["total_blob_count"] = blob_count
    out["snapshots_count"] = len(snaps)
    emit(
        s,
        out,
        lambda: "\n".join(
            [f"Stats in {mode} mode:", f"     Snapshots processed:   {len(snaps)}"]
            + ([f"   Total File Count:   {files}"] if files else [])
            + ([f"    Total Blob Count:   {blob_count}"] if blob_count else [])
            + [f"         Total Size:   {total_size} B"]
        ),
    )
