"""A restic v2 repository: config, keys, unpacked JSON files, blob reads through the index."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator

from backup import compression
from backup.backends.base import Backend, FileType, NotFoundError
from backup.crypto import CryptoError, KDFParams, Key
from backup.index import Index
from backup.keys import calibrate, make_key_file, open_key_file, parse_key_file
from backup.pack import EAGER_TAIL, Blob, open_blob, parse_tail
from backup.polynomial import irreducible, random_polynomial
from backup.tree import decode_tree

# restic gives up after this many key files, so opening is bounded the same way
MAX_KEYS = 20


class RepositoryError(Exception):
    """The repository cannot be used as asked (message says why and what to do)."""


class WrongPassword(RepositoryError):
    pass


class Repository:
    def __init__(self, backend: Backend, key: Key, config: dict, key_id: str = "") -> None:
        self.backend = backend
        self.key = key
        self.config = config
        self.key_id = key_id
        self.index = Index()
        self.version = int(config["version"])
        # checks run before every write of data, index or snapshot (held locks register here)
        self.guards: list[Callable[[], None]] = []

    # --- creation and opening -------------------------------------------------------------

    @classmethod
    def init(
        cls, backend: Backend, password: bytes, params: KDFParams | None = None, version: int = 2
    ) -> Repository:
        if backend.exists(FileType.CONFIG, "config"):
            raise RepositoryError(f"{backend.location()}: repository already initialized")
        backend.create()
        master = Key.random()
        key_file = make_key_file(master, password, params or calibrate())
        key_id = hashlib.sha256(key_file).hexdigest()
        backend.save(FileType.KEY, key_id, key_file)
        config = {
            "version": version,
            "id": os.urandom(32).hex(),
            "chunker_polynomial": f"{random_polynomial():x}",
        }
        # the config is never compressed, even in v2
        backend.save(FileType.CONFIG, "config", master.seal(json.dumps(config).encode()))
        return cls(backend, master, config, key_id)

    @classmethod
    def open(cls, backend: Backend, password: bytes) -> Repository:
        try:
            sealed_config = backend.load(FileType.CONFIG, "config")
        except NotFoundError as e:
            raise RepositoryError(
                f"{backend.location()}: no repository here (run `init` first)"
            ) from e
        names = sorted(name for name, _ in backend.list(FileType.KEY))
        damaged: list[str] = []
        for name in names[:MAX_KEYS]:
            data = backend.load(FileType.KEY, name)
            try:
                if hashlib.sha256(data).hexdigest() != name:
                    raise ValueError("content does not match its name")
                doc = parse_key_file(data)
            except (CryptoError, ValueError, KeyError, TypeError) as e:
                # a truncated or damaged key file is not a wrong password: say which
                damaged.append(f"keys/{name} is damaged ({e})")
                continue
            try:
                master = open_key_file(doc, password)
            except (CryptoError, ValueError, KeyError):
                continue
            try:
                config = json.loads(master.open(sealed_config))
            except CryptoError:
                continue
            version = config.get("version")
            if version not in (1, 2):
                raise RepositoryError(f"unsupported repository version {version}")
            if not irreducible(int(config["chunker_polynomial"], 16)):
                raise RepositoryError("invalid chunker polynomial in repository config")
            return cls(backend, master, config, name)
        if damaged and len(damaged) == len(names[:MAX_KEYS]):
            raise RepositoryError(
                f"{backend.location()}: no usable key file: {'; '.join(damaged)} "
                "(restore the key file from a copy, or open with another key's password)"
            )
        raise WrongPassword(
            f"{backend.location()}: wrong password or no key found "
            f"(tried {min(len(names), MAX_KEYS)} keys"
            + (f"; {'; '.join(damaged)}" if damaged else "")
            + "); check the password file or variable"
        )

    @property
    def polynomial(self) -> int:
        return int(self.config["chunker_polynomial"], 16)

    # --- unpacked files: index, snapshots, locks -----------------------------------------

    def encode_unpacked(self, obj: dict) -> bytes:
        raw = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
        if self.version >= 2:
            raw = b"\x02" + compression.compress(raw)
        return self.key.seal(raw)

    def check_guards(self) -> None:
        for guard in list(self.guards):
            guard()

    def save_unpacked(self, ftype: FileType, obj: dict) -> str:
        if ftype is not FileType.LOCK:
            self.check_guards()
        data = self.encode_unpacked(obj)
        name = hashlib.sha256(data).hexdigest()
        self.backend.save(ftype, name, data)
        return name

    def load_raw(self, ftype: FileType, name: str) -> bytes:
        data = self.backend.load(ftype, name)
        if hashlib.sha256(data).hexdigest() != name:
            # one retry: a transient read error must not condemn the file
            data = self.backend.load(ftype, name)
            if hashlib.sha256(data).hexdigest() != name:
                raise RepositoryError(f"{ftype.value}/{name}: content does not match its name")
        return data

    def load_unpacked(self, ftype: FileType, name: str) -> dict:
        plain = self.key.open(self.load_raw(ftype, name))
        if plain[:1] == b"\x02":
            plain = compression.decompress(plain[1:])
        elif plain[:1] not in (b"{", b"["):
            raise RepositoryError(f"{ftype.value}/{name}: unsupported encoding {plain[:1]!r}")
        return json.loads(plain)

    def list_ids(self, ftype: FileType) -> list[str]:
        return sorted(name for name, _ in self.backend.list(ftype))

    # --- index and blobs ------------------------------------------------------------------

    def load_index(self) -> Index:
        self.index = Index()
        for name in self.list_ids(FileType.INDEX):
            self.index.load_file(name, self.load_unpacked(FileType.INDEX, name))
        return self.index

    def read_pack_header(self, pack_id: str, size: int) -> list[Blob]:
        tail = self.backend.load(FileType.PACK, pack_id, max(size - EAGER_TAIL, 0))
        blobs, need = parse_tail(self.key, tail, size)
        if need:
            tail = self.backend.load(FileType.PACK, pack_id, size - need)
            blobs, _ = parse_tail(self.key, tail, size)
        return blobs

    def load_blob(self, btype: str, blob_id: bytes) -> bytes:
        loc = self.index.lookup(btype, blob_id)
        if loc is None:
            raise RepositoryError(f"{btype} blob {blob_id.hex()} not found in index")
        sealed = self.backend.load(FileType.PACK, loc.pack, loc.offset, loc.length)
        return open_blob(self.key, loc.blob(blob_id, btype), sealed)

    def load_tree(self, tree_id: bytes) -> dict:
        return decode_tree(self.load_blob("tree", tree_id))

    def snapshots(self) -> Iterator[tuple[str, dict]]:
        for name in self.list_ids(FileType.SNAPSHOT):
            yield name, self.load_unpacked(FileType.SNAPSHOT, name)
