"""Selecting snapshots the way restic's --host/--tag/--path options and `latest` do.

A `--tag` value is a comma-separated list a snapshot must carry all of ("a,b" = has a AND b);
repeating the option ORs the lists. An empty list item matches snapshots without tags.
`--path` values must all be among the snapshot's paths; `--host` values are ORed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from backup.backends.base import FileType
from backup.gotime import parse_ns
from backup.repository import Repository

Snapshot = tuple[str, dict]


def split_tags(values: Iterable[str]) -> list[list[str]]:
    """Each option value becomes one list: `--tag a,b --tag c` → [[a, b], [c]]."""
    return [[t.strip() for t in v.split(",")] for v in values]


def has_tags(snap: dict, tags: list[str]) -> bool:
    have = snap.get("tags") or []
    for tag in tags:
        if tag == "" and not have:
            return True
        if tag not in have:
            return False
    return True


def has_tag_list(snap: dict, lists: list[list[str]]) -> bool:
    return not lists or any(has_tags(snap, tags) for tags in lists)


@dataclass
class SnapshotFilter:
    hosts: list[str] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    @classmethod
    def from_options(
        cls, hosts: Iterable[str] = (), tags: Iterable[str] = (), paths: Iterable[str] = ()
    ) -> SnapshotFilter:
        # restic makes --path values absolute and clean before comparing
        return cls(
            [h for h in hosts if h],
            split_tags(tags),
            [os.path.normpath(os.path.abspath(p)) for p in paths],
        )

    def __call__(self, snap: dict) -> bool:
        if self.hosts and snap.get("hostname") not in self.hosts:
            return False
        if not has_tag_list(snap, self.tags):
            return False
        have = set(snap.get("paths") or [])
        return all(p in have for p in self.paths)

    def select(self, snaps: Iterable[Snapshot]) -> list[Snapshot]:
        return [s for s in snaps if self(s[1])]


def by_time(snaps: Iterable[Snapshot]) -> list[Snapshot]:
    return sorted(snaps, key=lambda s: parse_ns(s[1]["time"]))


def latest(snaps: Iterable[Snapshot]) -> Snapshot | None:
    ordered = by_time(snaps)
    return ordered[-1] if ordered else None


def resolve_snapshot(
    repo: Repository, ref: str, selection: SnapshotFilter | None = None
) -> Snapshot:
    """A snapshot by (a prefix of) its ID, or `latest` among those the filter selects."""
    selection = selection or SnapshotFilter()
    if ref == "latest":
        found = latest(selection.select(repo.snapshots()))
        if found is None:
            raise LookupError(
                "no snapshot found (run a backup first, or widen --host/--tag/--path)"
            )
        return found
    ids = repo.list_ids(FileType.SNAPSHOT)
    matches = [sid for sid in ids if sid.startswith(ref)]
    if len(matches) != 1:
        raise LookupError(
            f"snapshot {ref!r}: " + ("no match" if not matches else "ambiguous prefix")
        )
    return matches[0], repo.load_unpacked(FileType.SNAPSHOT, matches[0])


def find_parent(repo: Repository, paths: list[str], hostname: str) -> Snapshot | None:
    """Latest snapshot of the same host and paths, as restic picks the parent."""
    same = sorted(paths)
    return latest(
        (sid, snap)
        for sid, snap in repo.snapshots()
        if snap.get("hostname") == hostname and sorted(snap.get("paths") or []) == same
    )
