"""Restoring a snapshot (or some of its paths) with metadata, optionally verifying contents."""

from __future__ import annotations

import base64
import errno
import hashlib
import logging
import os
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from backup.backends.base import FileType
from backup.crypto import OVERHEAD
from backup.gotime import parse_ns
from backup.index import Location
from backup.pack import DATA, open_blob
from backup.patterns import Matcher
from backup.progress import Progress
from backup.repository import Repository
from backup.tree import link_target, node_name, posix_mode

log = logging.getLogger(__name__)

# descriptors a restore worker keeps open while it spreads one pack over many files
OPEN_FILES_PER_WORKER = 32


@dataclass
class RestoreResult:
    files: int = 0
    dirs: int = 0
    bytes: int = 0
    verified: int = 0
    errors: list[str] = field(default_factory=list)


def walk(repo: Repository, tree_id: bytes, prefix: bytes = b"") -> Iterator[tuple[bytes, dict]]:
    """(path, node) of every node below a tree, depth first, parents before children."""
    for node in repo.load_tree(tree_id).get("nodes") or []:
        path = prefix + b"/" + node_name(node)
        yield path, node
        if node.get("type") == "dir" and node.get("subtree"):
            yield from walk(repo, bytes.fromhex(node["subtree"]), path)


class RestoreFilter:
    """restic's restore selection: --include patterns pick nodes (walking into directories
    below which something may still match), --exclude patterns drop nodes and all below."""

    def __init__(
        self,
        includes: list[str] | None = None,
        excludes: list[str] | None = None,
        iincludes: list[str] | None = None,
        iexcludes: list[str] | None = None,
    ) -> None:
        self.includes = [Matcher(includes or []), Matcher(iincludes or [], ignore_case=True)]
        self.excludes = [Matcher(excludes or []), Matcher(iexcludes or [], ignore_case=True)]
        if any(self.includes) and any(self.excludes):
            raise ValueError("--include and --exclude cannot be combined (as in restic)")

    def __bool__(self) -> bool:
        return any(self.includes) or any(self.excludes)

    def __call__(self, path: bytes, is_dir: bool) -> tuple[bool, bool]:
        """(restore this node, walk into it)."""
        text = os.fsdecode(path)
        if any(self.excludes):
            take = not any(m.matches(text) for m in self.excludes)
            return take, take and is_dir
        if any(self.includes):
            take = descend = False
            for m in self.includes:
                t, d = m.match_with_child(text)
                take, descend = take or t, descend or d
            return take, descend and is_dir
        return True, is_dir


class Restorer:
    def __init__(
        self, repo: Repository, workers: int | None = None, progress: Progress | None = None
    ) -> None:
        self.repo = repo
        self.progress = progress or Progress(enabled=False)
        self.workers = workers or max(4, os.cpu_count() or 2)
        self.result = RestoreResult()
        self._hardlinks: dict[tuple[int, int], bytes] = {}
        self._is_root = os.geteuid() == 0
        self._count_lock = threading.Lock()
        # the MAC already authenticates every blob; re-hashing is for --verify runs
        self.hash_blobs = False

    def restore(
        self,
        snapshot: dict,
        target: str,
        includes: list[str] | None = None,
        verify: bool = False,
        selection: RestoreFilter | None = None,
    ) -> RestoreResult:
        """`includes`: restic --include patterns (a path restores that path and below)."""
        self.hash_blobs = verify
        target_b = os.fsencode(os.path.abspath(target))
        selection = selection or RestoreFilter(includes)
        dirs: list[tuple[bytes, dict]] = []
        files: list[tuple[bytes, dict]] = []
        selected = list(self._select(bytes.fromhex(snapshot["tree"]), b"", selection))
        # a deferred repository lock is confirmed here, before anything is written
        self.repo.check_guards()
        os.makedirs(target_b, exist_ok=True)
        for path, node in selected:
            dest = target_b + path
            ntype = node.get("type")
            try:
                if selection:
                    # parents that were walked through but not selected: created plainly
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                if ntype == "dir":
                    os.makedirs(dest, exist_ok=True)
                    dirs.append((dest, node))
                elif ntype == "file":
                    files.append((dest, node))
                else:
                    self._special(dest, node)
            except OSError as e:
                self._error(dest, e)
        # hard links need their first copy in place: write those in order, the rest in parallel
        first, linked = [], []
        for dest, node in files:
            key = (node.get("inode", 0), node.get("device_id", 0))
            if (node.get("links") or 1) > 1 and key[0]:
                if key in self._hardlinks:
                    linked.append((dest, self._hardlinks[key]))
                    continue
                self._hardlinks[key] = dest
            first.append((dest, node))
        self.progress.total_bytes = sum(n.get("size", 0) for _, n in first)
        self._write_files(first, verify)
        self.progress.done()
        for dest, source in linked:
            try:
                if os.path.lexists(dest):
                    os.unlink(dest)
                os.link(source, dest)
                self.result.files += 1
            except OSError as e:
                self._error(dest, e)
        # directory metadata last (deepest first): writing children changes mtimes
        for dest, node in reversed(dirs):
            try:
                self._metadata(dest, node)
                self.result.dirs += 1
            except OSError as e:
                self._error(dest, e)
        return self.result

    def _select(
        self, tree_id: bytes, prefix: bytes, selection: RestoreFilter
    ) -> Iterator[tuple[bytes, dict]]:
        for node in self.repo.load_tree(tree_id).get("nodes") or []:
            name = node_name(node)
            path = prefix + b"/" + name
            # a damaged or hostile tree must not write outside the target
            if b"/" in name or b"\0" in name or name in (b"", b".", b".."):
                self.result.errors.append(f"{os.fsdecode(path)}: unsafe name, skipped")
                continue
            is_dir = node.get("type") == "dir"
            take, descend = selection(path, is_dir)
            if take:
                yield path, node
            if descend and is_dir and node.get("subtree"):
                yield from self._select(bytes.fromhex(node["subtree"]), path, selection)

    def _write_files(self, files: list[tuple[bytes, dict]], verify: bool) -> None:
        """Write file contents pack by pack, as restic does: each pack is read once, and its
        blobs go to every place in every file that needs them."""
        plan: dict[str, list[tuple[bytes, Location, int, int]]] = {}
        failed: dict[int, str] = {}
        sizes: dict[int, int] = {}
        for n, (dest, node) in enumerate(files):
            try:
                # start from nothing: workers then create the file and write at offsets
                os.unlink(dest)
            except FileNotFoundError:
                pass
            except OSError as e:
                failed[n] = str(e)
                continue
            offset = 0
            for blob_hex in node.get("content") or []:
                blob_id = bytes.fromhex(blob_hex)
                loc = self.repo.index.lookup(DATA, blob_id)
                if loc is None:
                    failed[n] = f"data blob {blob_hex} not in index"
                    break
                plan.setdefault(loc.pack, []).append((blob_id, loc, n, offset))
                offset += loc.uncompressed_length or loc.length - OVERHEAD
            sizes[n] = offset

        # a file's metadata is set by the worker that writes its last pack, so the metadata
        # syscalls overlap the remaining packs' reads and writes
        packs_left: Counter[int] = Counter()
        for entries in plan.values():
            packs_left.update({e[2] for e in entries})
        left_lock = threading.Lock()

        def restore_pack(item: tuple[str, list]) -> None:
            try:
                write_pack(item)
            finally:
                with left_lock:
                    ready = []
                    for n in {e[2] for e in item[1]}:
                        packs_left[n] -= 1
                        if not packs_left[n]:
                            ready.append(n)
                for n in ready:
                    finish(n)

        def write_pack(item: tuple[str, list]) -> None:
            pack_id, entries = item
            entries.sort(key=lambda e: e[1].offset)
            lo = entries[0][1].offset
            hi = max(e[1].offset + e[1].length for e in entries)
            try:
                data = memoryview(self.repo.backend.load(FileType.PACK, pack_id, lo, hi - lo))
            except Exception as e:  # noqa: BLE001 - reported per affected file below
                for _, _, n, _ in entries:
                    failed.setdefault(n, f"pack {pack_id}: {e}")
                return
            # blob by blob in pack order: a blob several files need (duplicates) is decrypted
            # once and written to each of them right away, never held for later
            fds: OrderedDict[int, int] = OrderedDict()
            last_id: bytes | None = None
            plain: bytes | Exception = b""
            try:
                for blob_id, loc, n, offset in entries:
                    if n in failed:
                        continue
                    if blob_id != last_id:
                        last_id = blob_id
                        sealed = data[loc.offset - lo : loc.offset - lo + loc.length]
                        try:
                            plain = open_blob(
                                self.repo.key, loc.blob(blob_id, DATA), sealed, self.hash_blobs
                            )
                        except Exception as e:  # noqa: BLE001 - fails only its files
                            plain = e
                    if isinstance(plain, Exception):
                        failed.setdefault(n, f"pack {pack_id}: {plain}")
                        continue
                    try:
                        fd = fds.get(n)
                        if fd is None:
                            if len(fds) >= OPEN_FILES_PER_WORKER:
                                os.close(fds.popitem(last=False)[1])
                            fd = fds[n] = os.open(files[n][0], os.O_WRONLY | os.O_CREAT, 0o600)
                        else:
                            fds.move_to_end(n)
                        os.pwrite(fd, plain, offset)
                    except OSError as e:
                        failed.setdefault(n, str(e))
            finally:
                for fd in fds.values():
                    os.close(fd)

        def finish(n: int) -> None:
            dest, node = files[n]
            if n in failed:
                self._error(dest, RuntimeError(failed[n]))
                return
            try:
                if not sizes[n]:
                    os.close(os.open(dest, os.O_WRONLY | os.O_CREAT, 0o600))  # empty file
                if verify:
                    self._verify(dest, node)
                self._metadata(dest, node)
                with self._count_lock:
                    self.result.files += 1
                    self.result.bytes += sizes[n]
                    self.progress.update(1, sizes[n])
            except Exception as e:  # noqa: BLE001 - one bad file must not stop the others
                self._error(dest, e)

        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(restore_pack, plan.items()))
            # files in no pack: empty ones, and those that failed before any blob was planned
            rest = [n for n in range(len(files)) if n not in packs_left]
            list(pool.map(finish, rest, chunksize=64))

    def _verify(self, dest: bytes, node: dict) -> None:
        with open(dest, "rb") as f:
            for blob_hex in node.get("content") or []:
                loc = self.repo.index.lookup(DATA, bytes.fromhex(blob_hex))
                length = loc.uncompressed_length or loc.length - 32 if loc else 0
                if hashlib.sha256(f.read(length)).hexdigest() != blob_hex:
                    raise ValueError("restored content does not match the snapshot")
            if f.read(1):
                raise ValueError("restored file is longer than in the snapshot")
        with self._count_lock:
            self.result.verified += 1

    def _special(self, dest: bytes, node: dict) -> None:
        if os.path.lexists(dest):
            os.unlink(dest)
        ntype = node["type"]
        if ntype == "symlink":
            os.symlink(link_target(node), dest)
        elif ntype == "fifo":
            os.mkfifo(dest)
        elif ntype in ("dev", "chardev"):
            kind = 0o020000 if ntype == "chardev" else 0o060000
            os.mknod(dest, kind | posix_mode(node.get("mode", 0)), node.get("device", 0))
        elif ntype == "socket":
            return  # restic does not restore sockets either
        else:
            raise OSError(f"unknown node type {ntype!r}")
        self._metadata(dest, node)
        self.result.files += 1

    def _metadata(self, dest: bytes, node: dict) -> None:
        link = node.get("type") == "symlink"
        if self._is_root:
            try:
                os.chown(dest, node.get("uid", 0), node.get("gid", 0), follow_symlinks=False)
            except OSError as e:
                self._error(dest, e)
        for attr in node.get("extended_attributes") or []:
            # restic writes null values for empty attributes
            value = base64.b64decode(attr.get("value") or "")
            try:
                os.setxattr(dest, attr["name"], value, follow_symlinks=False)
            except OSError as e:
                if e.errno not in (errno.ENOTSUP, errno.EPERM):
                    raise
        if not link:
            # restic omits `mode` when it is 0 (mode 000): absent means 000, not a default
            os.chmod(dest, posix_mode(node.get("mode", 0)))
        times = (parse_ns(node["atime"]), parse_ns(node["mtime"]))
        if link and os.utime not in os.supports_follow_symlinks:
            return
        os.utime(dest, ns=times, follow_symlinks=False)

    def _error(self, path: bytes, err: BaseException) -> None:
        msg = f"{os.fsdecode(path)}: {err}"
        log.debug("restore: %s", msg)  # reported once, by the caller
        with self._count_lock:
            self.result.errors.append(msg)
