"""Retention policies with restic's `forget` semantics.

Snapshots are grouped (by host and paths, as restic does by default) and walked newest
first. --keep-last N keeps the N newest; each --keep-<period> N keeps the newest snapshot of
each of the N most recent periods that have one; --keep-tag keeps snapshots carrying a tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from backup.gotime import parse_ns


@dataclass
class Policy:
    last: int = 0
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0
    tags: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        counts = (self.last, self.hourly, self.daily, self.weekly, self.monthly, self.yearly)
        return not any(counts) and not self.tags


def _local(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9).astimezone()


def _buckets(policy: Policy) -> list[list]:
    def hour(t: datetime) -> int:
        return t.year * 1_000_000 + t.month * 10_000 + t.day * 100 + t.hour

    def day(t: datetime) -> int:
        return t.year * 10_000 + t.month * 100 + t.day

    def week(t: datetime) -> int:
        y, w, _ = t.isocalendar()
        return y * 100 + w

    def month(t: datetime) -> int:
        return t.year * 100 + t.month

    def year(t: datetime) -> int:
        return t.year

    # [remaining count, bucket function, last bucket value]
    return [
        [policy.hourly, hour, None],
        [policy.daily, day, None],
        [policy.weekly, week, None],
        [policy.monthly, month, None],
        [policy.yearly, year, None],
    ]


def group_key(snap: dict) -> tuple:
    return (snap.get("hostname", ""), tuple(sorted(snap.get("paths") or [])))


def apply_policy(
    snapshots: list[tuple[str, dict]], policy: Policy
) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    """Split snapshots into (keep, remove); groups are evaluated independently."""
    if policy.empty():
        raise ValueError("no keep policy given: refusing to remove every snapshot")
    groups: dict[tuple, list[tuple[str, dict]]] = {}
    for sid, snap in snapshots:
        groups.setdefault(group_key(snap), []).append((sid, snap))
    keep: list[tuple[str, dict]] = []
    remove: list[tuple[str, dict]] = []
    for members in groups.values():
        members.sort(key=lambda s: parse_ns(s[1]["time"]), reverse=True)
        buckets = _buckets(policy)
        for nr, (sid, snap) in enumerate(members):
            kept = nr < policy.last
            if policy.tags and set(policy.tags) & set(snap.get("tags") or []):
                kept = True
            t = _local(parse_ns(snap["time"]))
            for bucket in buckets:
                if bucket[0] > 0:
                    value = bucket[1](t)
                    if value != bucket[2]:
                        kept = True
                        bucket[2] = value
                        bucket[0] -= 1
            (keep if kept else remove).append((sid, snap))
    return keep, remove
