"""Backing up directories into a snapshot.

The snapshot's root tree mirrors restic's: for `/srv/files` it holds `srv`, which holds
`files`, so restic and this engine restore to the same relative paths. Files whose size,
mtime, ctime and inode match the parent snapshot's node are not read again.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from backup.backends.base import FileType
from backup.chunker import MIN_SIZE, Chunker
from backup.gotime import format_ns
from backup.identity import username
from backup.pack import DATA, TREE
from backup.patterns import Matcher
from backup.progress import Progress
from backup.repository import Repository
from backup.snapshots import find_parent
from backup.tree import encode_tree, node_from_stat, node_name
from backup.writer import BlobWriter

log = logging.getLogger(__name__)


@dataclass
class Summary:
    files_new: int = 0
    files_changed: int = 0
    files_unmodified: int = 0
    dirs: int = 0
    errors: list[str] = field(default_factory=list)
    total_files_processed: int = 0
    total_bytes_processed: int = 0
    data_added: int = 0
    data_added_packed: int = 0
    data_blobs: int = 0
    tree_blobs: int = 0
    snapshot_id: str = ""
    parent: str | None = None
    seconds: float = 0.0


# small files go to the workers in batches: one task per file costs more than reading it
BATCH_FILES = 64
BATCH_BYTES = 8 * 1024 * 1024
MAX_BATCHES_IN_FLIGHT = 8
# chunks of one large file being sealed at once
CHUNKS_IN_FLIGHT = 3
# directories scanned but not yet saved: the walk runs ahead of the workers by this much
MAX_PENDING_TREES = 256


@dataclass
class _Batch:
    files: list[tuple[bytes, int]] = field(default_factory=list)  # path, size from stat
    size: int = 0
    future: Future | None = None


@dataclass
class _Slot:
    batch: _Batch
    index: int


@dataclass
class _PendingTree:
    """A directory whose file contents (or subtrees) may still be in the works."""

    nodes: list[dict]
    path: bytes = b""  # the directory, for error messages
    # the same directory in the parent snapshot: reused as is when nothing in it changed
    parent_id: bytes | None = None
    parent_nodes: list[dict] | None = None
    id: bytes | None = None


class Archiver:
    def __init__(
        self,
        repo: Repository,
        excludes: list[str] | None = None,
        one_file_system: bool = False,
        workers: int | None = None,
        progress: Progress | None = None,
        iexcludes: list[str] | None = None,
        exclude_if_present: list[str] | None = None,
        dry_run: bool = False,
    ) -> None:
        self.repo = repo
        self.dry_run = dry_run
        self.progress = progress or Progress(enabled=False)
        self.excludes = list(excludes or [])
        self._exclude = Matcher(self.excludes)
        self._iexclude = Matcher(iexcludes or [], ignore_case=True)
        self._if_present = [os.fsencode(n) for n in exclude_if_present or []]
        self.one_file_system = one_file_system
        self.writer = BlobWriter(repo, workers, dry_run=dry_run)
        self._local = threading.local()
        # large files are chunked in their own threads; the chunker releases the GIL
        self._file_pool = ThreadPoolExecutor(2, thread_name_prefix="chunk")
        self._batch = _Batch()
        self._batches: deque[Future] = deque()
        # post-order, so a tree is finished only after every subtree it names
        self._trees: deque[_PendingTree] = deque()
        self.summary = Summary()
        self._root_devs: set[int] = set()

    # --- public ---------------------------------------------------------------------------

    def snapshot(
        self,
        paths: list[str],
        tags: list[str] | None = None,
        hostname: str | None = None,
        parent: str | None = None,
        time_ns: int | None = None,
        force: bool = False,
    ) -> Summary:
        """`parent`: a snapshot ID to compare with (default: the latest of the same host and
        paths); `force`: compare with none, reading every file."""
        start = time.monotonic()
        # like restic, a snapshot is stamped with the time its backup started
        time_ns = time_ns or time.time_ns()
        hostname = hostname or socket.gethostname()
        abs_paths = [os.path.abspath(p) for p in paths]
        for p in abs_paths:
            if not os.path.lexists(p):
                raise FileNotFoundError(f"{p}: no such file or directory (nothing backed up)")
        parent_tree = None
        if force:
            parent = None
        elif parent:
            snap = self.repo.load_unpacked(FileType.SNAPSHOT, parent)
            parent_tree = bytes.fromhex(snap["tree"])
        elif found := find_parent(self.repo, abs_paths, hostname):
            parent, parent_tree = found[0], bytes.fromhex(found[1]["tree"])
        self.summary.parent = parent
        self._root_devs = {os.lstat(p).st_dev for p in abs_paths}
        try:
            layout = _virtual_layout(abs_paths)
            root = self._save_virtual(b"", layout, parent_tree)
            self._finish_trees(keep=0)
            assert root.id is not None
            tree_id = root.id
            self.writer.flush()
        except BaseException:
            self.writer.abort()
            raise
        finally:
            self._file_pool.shutdown(wait=True, cancel_futures=True)
            self.writer.close()
            self.progress.done()
        snap: dict = {"time": format_ns(time_ns)}
        if parent:
            snap["parent"] = parent
        snap |= {
            "tree": tree_id.hex(),
            "paths": abs_paths,
            "hostname": hostname,
            "username": username(),
            "uid": os.getuid(),
            "gid": os.getgid(),
        }
        if self.excludes:
            snap["excludes"] = self.excludes
        if tags:
            snap["tags"] = tags
        s = self.summary
        s.data_added = self.writer.added_plain
        s.data_added_packed = self.writer.added_bytes
        s.data_blobs, s.tree_blobs = self.writer.new_blobs[DATA], self.writer.new_blobs[TREE]
        if not self.dry_run:
            s.snapshot_id = self.repo.save_unpacked(FileType.SNAPSHOT, snap)
        s.seconds = time.monotonic() - start
        return s

    # --- trees ----------------------------------------------------------------------------

    def _parent_nodes(self, tree_id: bytes | None) -> dict[bytes, dict]:
        if tree_id is None or not self.repo.index.has(TREE, tree_id):
            return {}
        return {node_name(n): n for n in self.repo.load_tree(tree_id).get("nodes") or []}

    def _save_tree(
        self,
        path: bytes,
        nodes: list[dict],
        parent_tree: bytes | None,
        previous: dict[bytes, dict],
    ) -> _PendingTree:
        """Queue a directory's tree; it is saved once its files are stored (see _finish_trees).

        Not waiting here keeps the walk going while the workers read and seal: waiting for
        each directory's files before scanning the next one left the workers idle in turn.
        """
        tree = _PendingTree(nodes, path)
        if previous:
            tree.parent_id, tree.parent_nodes = parent_tree, list(previous.values())
        self._trees.append(tree)
        self._finish_trees(keep=MAX_PENDING_TREES)
        return tree

    def _finish_trees(self, keep: int) -> None:
        """Save queued trees, oldest first: those ready, then more (waiting) down to `keep`."""
        while self._trees:
            tree = self._trees[0]
            if not self._ready(tree):
                if len(self._trees) <= keep:
                    return
                self._submit_batch()  # its small files may still sit in the unsent batch
            self._trees.popleft()
            tree.id = self._store_tree(tree)

    @staticmethod
    def _ready(tree: _PendingTree) -> bool:
        for node in tree.nodes:
            for c in node.get("content") or ():
                if isinstance(c, _Slot):
                    if c.batch.future is None or not c.batch.future.done():
                        return False
                elif isinstance(c, Future):
                    if not c.done():
                        return False
                else:
                    break  # a finished node: hex IDs only
        return True

    def _store_tree(self, tree: _PendingTree) -> bytes:
        kept = []
        for node in tree.nodes:
            sub = node.get("subtree")
            if isinstance(sub, _PendingTree):
                assert sub.id is not None  # post-order: saved before its parent
                node["subtree"] = sub.id.hex()
            content = node.get("content")
            if content and isinstance(content[0], Future | _Slot):
                results: list[tuple[bytes, int]] = []
                try:
                    for c in content:
                        if isinstance(c, _Slot):
                            r = c.batch.future.result()[c.index]
                            if isinstance(r, OSError):
                                raise r
                            results.append(r)
                            continue
                        r = c.result()
                        results.extend(r if isinstance(r, list) else [(r[0], r[3])])
                except OSError as e:
                    self._error(tree.path + b"/" + node_name(node), e)
                    # a file that could not be read is not part of the snapshot: not counted
                    s = self.summary
                    s.total_files_processed -= 1
                    s.total_bytes_processed -= node.get("size", 0)
                    continue
                node["content"] = [r[0].hex() for r in results]
                size = sum(r[1] for r in results)
                if size != node.get("size", 0):
                    # the file changed while being read: describe what was actually stored
                    node["size"] = size
                if not size:
                    node.pop("size", None)
                    node["content"] = []
            kept.append(node)
        self.summary.dirs += 1
        if tree.parent_id is not None and kept == tree.parent_nodes:
            # unchanged directory (same entries, same metadata, atimes included): the parent
            # snapshot's tree says exactly this; comparing is far cheaper than encoding
            return tree.parent_id
        return self.writer.save_sync(TREE, encode_tree(kept))

    def _save_virtual(
        self, prefix: bytes, children: dict, parent_tree: bytes | None
    ) -> _PendingTree:
        previous = self._parent_nodes(parent_tree)
        nodes = []
        for name, sub in children.items():
            full = prefix + b"/" + name
            prev = previous.get(name)
            if sub is None:
                try:
                    node = self._entry(full, name, os.lstat(full), prev)
                except OSError as e:
                    self._error(full, e)
                    continue
            else:
                node = node_from_stat(name, os.stat(full), full)
                prev_sub = bytes.fromhex(prev["subtree"]) if prev and prev.get("subtree") else None
                node["subtree"] = self._save_virtual(full, sub, prev_sub)
            if node is not None:
                nodes.append(node)
        return self._save_tree(prefix, nodes, parent_tree, previous)

    def _entry(
        self, path: bytes, name: bytes, st: os.stat_result, prev: dict | None
    ) -> dict | None:
        if prev is not None and stat.S_ISREG(st.st_mode) and self._same_file(st, prev):
            # unchanged ctime means unchanged metadata too: reuse the node, refresh atime only
            node = dict(prev)
            node["atime"] = format_ns(st.st_atime_ns)
            self._count_file(st)
            self.summary.files_unmodified += 1
            return node
        node = node_from_stat(name, st, path)
        if node is None:
            return None
        if stat.S_ISDIR(st.st_mode):
            prev_sub = bytes.fromhex(prev["subtree"]) if prev and prev.get("subtree") else None
            node["subtree"] = self._save_dir(path, prev_sub)
        elif stat.S_ISREG(st.st_mode):
            node["content"] = self._save_file(path, st, node, prev)
        return node

    def _save_dir(self, path: bytes, parent_tree: bytes | None) -> _PendingTree:
        previous = self._parent_nodes(parent_tree)
        nodes = []
        # an unreadable directory raises here and is left out by the caller, as restic does
        # (storing it empty would look like its files were deleted)
        entries = sorted(os.scandir(path), key=lambda e: e.name)
        for entry in entries:
            full = entry.path
            if self._excluded(full):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
                if (
                    self.one_file_system
                    and stat.S_ISDIR(st.st_mode)
                    and st.st_dev not in self._root_devs
                ):
                    continue
                node = self._entry(full, entry.name, st, previous.get(entry.name))
            except OSError as e:
                self._error(full, e)
                continue
            if node is not None:
                nodes.append(node)
        return self._save_tree(path, nodes, parent_tree, previous)

    def _excluded(self, path: bytes) -> bool:
        if self._exclude or self._iexclude:
            text = os.fsdecode(path)
            if self._exclude.matches(text) or self._iexclude.matches(text):
                return True
        # --exclude-if-present NAME: leave out directories holding a file of that name
        return any(os.path.lexists(os.path.join(path, n)) for n in self._if_present)

    # --- files ----------------------------------------------------------------------------

    def _same_file(self, st: os.stat_result, prev: dict) -> bool:
        """The metadata cache: same inode, size, mtime and ctime as in the parent snapshot."""
        if (
            prev.get("type") != "file"
            or prev.get("inode") != st.st_ino
            or prev.get("device_id") != st.st_dev
            or prev.get("size", 0) != st.st_size
            or prev.get("mtime") != format_ns(st.st_mtime_ns)
            or prev.get("ctime") != format_ns(st.st_ctime_ns)
        ):
            return False
        content = prev.get("content") or []
        return all(self.repo.index.has(DATA, bytes.fromhex(c)) for c in content)

    def _count_file(self, st: os.stat_result) -> None:
        self.summary.total_files_processed += 1
        self.summary.total_bytes_processed += st.st_size
        self.progress.update(1, st.st_size)

    def _save_file(self, path: bytes, st: os.stat_result, node: dict, prev: dict | None) -> list:
        s = self.summary
        self._count_file(st)
        if prev is None:
            s.files_new += 1
        else:
            s.files_changed += 1
        if st.st_size == 0:
            return []
        if st.st_size < MIN_SIZE:
            return [self._batch_slot(path, st.st_size)]
        return [self._file_pool.submit(self._chunk_file, path)]

    def _batch_slot(self, path: bytes, size: int) -> _Slot:
        batch = self._batch
        batch.files.append((path, size))
        batch.size += size
        slot = _Slot(batch, len(batch.files) - 1)
        if len(batch.files) >= BATCH_FILES or batch.size >= BATCH_BYTES:
            self._submit_batch()
        return slot

    def _submit_batch(self) -> None:
        batch, self._batch = self._batch, _Batch()
        if not batch.files:
            return
        batch.future = self.writer.save_small_files(batch.files)
        self._batches.append(batch.future)
        while len(self._batches) > MAX_BATCHES_IN_FLIGHT:
            self._batches.popleft().result()
        while self._batches and self._batches[0].done():
            self._batches.popleft()

    def _chunk_file(self, path: bytes) -> list[tuple[bytes, int]]:
        """Read and cut a large file here; its chunks are hashed, sealed and packed by the
        seal workers, so a few big files still keep every core busy."""
        chunker = getattr(self._local, "chunker", None)
        if chunker is None:
            chunker = self._local.chunker = Chunker(self.repo.polynomial)  # not thread-safe
        out: list[tuple[bytes, int]] = []
        pending: deque[Future] = deque()
        try:
            for chunk in chunker.chunks(path):
                pending.append(self.writer.save_blob(DATA, chunk))
                # each chunk pins its read window: bound the memory per file
                while len(pending) > CHUNKS_IN_FLIGHT:
                    out.append(pending.popleft().result())
        finally:
            for fut in pending:
                r = fut.result()  # also on a read error: nothing may still use the windows
                out.append(r)
        return out

    def _error(self, path: bytes, err: OSError) -> None:
        msg = f"{os.fsdecode(path)}: {err.strerror or err}"
        # reported once, by whoever runs the archiver (the CLI prints summary.errors)
        log.debug("skipped %s", msg)
        self.summary.errors.append(msg)


def _virtual_layout(paths: list[str]) -> dict:
    """Nested dict of path components; None marks a path to back up in full."""
    root: dict = {}
    for p in sorted(paths):
        parts = [os.fsencode(x) for x in p.strip("/").split("/") if x]
        if not parts:
            raise ValueError("backing up / itself is not supported; name its directories")
        cur = root
        for part in parts[:-1]:
            nxt = cur.setdefault(part, {})
            if nxt is None:
                break  # an ancestor is already backed up in full
            cur = nxt
        else:
            cur[parts[-1]] = None
    return root
