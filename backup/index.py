"""The in-memory master index: which pack holds each blob, at which offset."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from backup.pack import DATA, TREE, Blob


class Location(NamedTuple):
    pack: str
    offset: int
    length: int
    uncompressed_length: int

    def blob(self, blob_id: bytes, btype: str) -> Blob:
        return Blob(blob_id, btype, self.offset, self.length, self.uncompressed_length)


class Index:
    def __init__(self) -> None:
        self._blobs: dict[str, dict[bytes, Location]] = {DATA: {}, TREE: {}}
        self.packs: dict[str, list[Blob]] = {}
        # index file id -> pack ids it lists (prune rewrites these)
        self.files: dict[str, list[str]] = {}

    def add_pack(self, pack_id: str, blobs: list[Blob]) -> None:
        self.packs[pack_id] = blobs
        for b in blobs:
            self._blobs[b.type][b.id] = Location(pack_id, b.offset, b.length, b.uncompressed_length)

    def has(self, btype: str, blob_id: bytes) -> bool:
        return blob_id in self._blobs[btype]

    def lookup(self, btype: str, blob_id: bytes) -> Location | None:
        return self._blobs[btype].get(blob_id)

    def count(self, btype: str) -> int:
        return len(self._blobs[btype])

    def blobs(self, btype: str) -> Iterator[tuple[bytes, Location]]:
        yield from self._blobs[btype].items()

    def load_file(self, file_id: str, doc: dict) -> None:
        ids: list[str] = []
        for pack in doc.get("packs") or []:
            blobs = [
                Blob(
                    bytes.fromhex(b["id"]),
                    b["type"],
                    b["offset"],
                    b["length"],
                    b.get("uncompressed_length") or 0,
                )
                for b in pack.get("blobs") or []
            ]
            self.add_pack(pack["id"], blobs)
            ids.append(pack["id"])
        self.files[file_id] = ids


def index_json(packs: dict[str, list[Blob]]) -> dict:
    out = []
    for pack_id, blobs in packs.items():
        entries = []
        for b in blobs:
            e = {"id": b.id.hex(), "type": b.type, "offset": b.offset, "length": b.length}
            if b.uncompressed_length:
                e["uncompressed_length"] = b.uncompressed_length
            entries.append(e)
        out.append({"id": pack_id, "blobs": entries})
    return {"packs": out}
