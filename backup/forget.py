"""Retention with restic's `forget` semantics, and the one routine that applies it.

Snapshots are grouped (by default by host and paths, `--group-by`) and each group is walked
newest first. --keep-last N keeps the N newest; each --keep-<period> N keeps the newest
snapshot of each of the N most recent periods that have one, periods taken in the zone the
snapshot's time was written in; --keep-within D keeps snapshots less than D older than the
group's newest; --keep-within-<period> D keeps the newest of each period within D;
--keep-tag a,b keeps snapshots carrying both a and b (repeat the option for "or").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from backup.backends.base import FileType
from backup.gotime import parse_datetime
from backup.repository import Repository
from backup.snapshots import Snapshot, SnapshotFilter, has_tags

PERIODS = ("hourly", "daily", "weekly", "monthly", "yearly")
GROUP_FIELDS = ("host", "paths", "tags")


@dataclass(frozen=True)
class Duration:
    """restic's duration for --keep-within: `1y2m3d4h`, each part optional."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        parts = re.findall(r"(\d+)([ymdh])", text)
        if not text or "".join(n + u for n, u in parts) != text:
            raise ValueError(
                f"--keep-within {text!r}: expected a duration like 2y5m7d3h (years, months, "
                "days, hours)"
            )
        values = {u: int(n) for n, u in parts}
        return cls(values.get("y", 0), values.get("m", 0), values.get("d", 0), values.get("h", 0))

    def zero(self) -> bool:
        return not (self.years or self.months or self.days or self.hours)

    def before(self, t: datetime) -> datetime:
        """Go's t.AddDate(-y, -m, -d).Add(-h hours): out-of-range days roll over, as in Go."""
        month0 = t.month - 1 - self.months
        year = t.year - self.years + month0 // 12
        first = date(year, month0 % 12 + 1, 1)
        day = first + timedelta(days=t.day - 1 - self.days)
        moved = t.replace(year=day.year, month=day.month, day=day.day)
        return moved - timedelta(hours=self.hours)


@dataclass
class Policy:
    last: int = 0
    hourly: int = 0
    daily: int = 0
    weekly: int = 0
    monthly: int = 0
    yearly: int = 0
    # each inner list is one --keep-tag value: a snapshot must carry all of its tags
    tags: list[list[str]] = field(default_factory=list)
    within: Duration = Duration()
    within_periods: dict[str, Duration] = field(default_factory=dict)

    def empty(self) -> bool:
        counts = (self.last, self.hourly, self.daily, self.weekly, self.monthly, self.yearly)
        withins = [self.within, *self.within_periods.values()]
        return not any(counts) and not self.tags and all(d.zero() for d in withins)


def _bucket(period: str) -> Callable[[datetime], int]:
    def hourly(t: datetime) -> int:
        return t.year * 1_000_000 + t.month * 10_000 + t.day * 100 + t.hour

    def daily(t: datetime) -> int:
        return t.year * 10_000 + t.month * 100 + t.day

    def weekly(t: datetime) -> int:
        y, w, _ = t.isocalendar()
        return y * 100 + w

    def monthly(t: datetime) -> int:
        return t.year * 100 + t.month

    def yearly(t: datetime) -> int:
        return t.year

    return {"hourly": hourly, "daily": daily, "weekly": weekly, "monthly": monthly}.get(
        period, yearly
    )


def parse_group_by(text: str) -> tuple[str, ...]:
    fields = tuple(f.strip() for f in text.split(",") if f.strip())
    for f in fields:
        if f not in GROUP_FIELDS:
            raise ValueError(f"--group-by {text!r}: {f!r} is not one of host, paths, tags")
    return fields


def group_key(snap: dict, group_by: tuple[str, ...] = ("host", "paths")) -> tuple:
    key: list = []
    if "host" in group_by:
        key.append(snap.get("hostname", ""))
    if "paths" in group_by:
        key.append(tuple(sorted(snap.get("paths") or [])))
    if "tags" in group_by:
        key.append(tuple(sorted(snap.get("tags") or [])))
    return tuple(key)


def _apply_group(members: list[Snapshot], policy: Policy) -> tuple[list, list]:
    members.sort(key=lambda s: parse_datetime(s[1]["time"]), reverse=True)
    times = [parse_datetime(snap["time"]) for _, snap in members]
    now = datetime.now().astimezone()
    # the newest snapshot not in the future anchors every --keep-within
    latest = max((t for t in times if t < now), default=None)
    counts = {"last": policy.last} | {p: getattr(policy, p) for p in PERIODS}
    last_value: dict[str, object] = {}
    within_last: dict[str, object] = {}
    keep: list[Snapshot] = []
    remove: list[Snapshot] = []
    for nr, ((sid, snap), t) in enumerate(zip(members, times, strict=True)):
        kept = any(has_tags(snap, tags) for tags in policy.tags)
        if latest is not None and not policy.within.zero():
            kept |= t > policy.within.before(latest)
        for name, left in counts.items():
            if left > 0:
                value = nr if name == "last" else _bucket(name)(t)
                if value != last_value.get(name):
                    kept = True
                    last_value[name] = value
                    counts[name] -= 1
        for name, within in policy.within_periods.items():
            if latest is not None and not within.zero() and t > within.before(latest):
                value = _bucket(name)(t)
                if value != within_last.get(name):
                    kept = True
                    within_last[name] = value
        (keep if kept else remove).append((sid, snap))
    return keep, remove


def apply_policy(
    snapshots: list[Snapshot], policy: Policy, group_by: tuple[str, ...] = ("host", "paths")
) -> tuple[list[Snapshot], list[Snapshot]]:
    """Split snapshots into (keep, remove); groups are evaluated independently."""
    if policy.empty():
        raise ValueError("no keep policy given: refusing to remove every snapshot")
    groups: dict[tuple, list[Snapshot]] = {}
    for sid, snap in snapshots:
        groups.setdefault(group_key(snap, group_by), []).append((sid, snap))
    keep: list[Snapshot] = []
    remove: list[Snapshot] = []
    for members in groups.values():
        k, r = _apply_group(members, policy)
        keep += k
        remove += r
    return keep, remove


def same_group(made: dict) -> Callable[[dict], bool]:
    """Selects the snapshots of the same host and paths as `made` (its retention group)."""
    key = group_key(made)
    return lambda snap: group_key(snap) == key


@dataclass
class ForgetResult:
    keep: list[str]
    remove: list[str]


def forget(
    repo: Repository,
    policy: Policy,
    selection: Callable[[dict], bool] | None = None,
    group_by: tuple[str, ...] = ("host", "paths"),
    ids: set[str] | None = None,
    dry_run: bool = False,
) -> ForgetResult:
    """Remove snapshots by ID or by policy among those selected; the caller holds the
    exclusive lock (and prunes afterwards if asked)."""
    chosen = selection or SnapshotFilter()
    snaps = [(sid, snap) for sid, snap in repo.snapshots() if chosen(snap)]
    if ids is not None:
        remove = [s for s in snaps if s[0] in ids]
        keep = [s for s in snaps if s[0] not in ids]
    else:
        keep, remove = apply_policy(snaps, policy, group_by)
    if not dry_run:
        for sid, _ in remove:
            repo.backend.remove(FileType.SNAPSHOT, sid)
    return ForgetResult([k for k, _ in keep], [r for r, _ in remove])
