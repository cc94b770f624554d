"""snapshots, ls, restore: finding snapshots and getting files back."""

from __future__ import annotations

import os
import sys
from dataclasses import asdict
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


@cli.command()
@snapshot_filter_options
@click.option(
    "--latest",
    type=click.IntRange(min=1),
    help="Only the newest N snapshots of each host and paths.",
)
@pass_settings
@clean_errors
def snapshots(s: Settings, latest: int | None, **kw: Any) -> None:
    """List snapshots, oldest first."""
    from backup.forget import group_key
    from backup.snapshots import by_time

    chosen = selection(kw)
    rows = by_time(chosen.select(s.open().snapshots()))
    if latest:
        seen: dict[tuple, int] = {}
        newest_first = []
        for sid, snap in reversed(rows):
            key = group_key(snap)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] <= latest:
                newest_first.append((sid, snap))
        rows = newest_first[::-1]
    out = [{**snap, "id": sid, "short_id": sid[:8]} for sid, snap in rows]

    def text() -> str:
        lines = [f"{'ID':<9} {'Time':<20} {'Host':<15} {'Tags':<15} Paths"]
        for r in out:
            lines.append(
                f"{r['short_id']:<9} {r['time'][:19].replace('T', ' '):<20} "
                f"{r.get('hostname', ''):<15} {','.join(r.get('tags') or []):<15} "
                f"{', '.join(r.get('paths') or [])}"
            )
        lines.append(f"{len(out)} snapshots")
        return "\n".join(lines)

    emit(s, out, text)


def _within(path: bytes, dirs: list[bytes]) -> bool:
    return not dirs or any(path == d or path.startswith(d + b"/") for d in dirs)


def _approaching(path: bytes, dirs: list[bytes]) -> bool:
    return not dirs or any(d == path or d.startswith(path + b"/") for d in dirs)


@cli.command()
@click.argument("snapshot", default="latest")
@click.argument("dirs", nargs=-1)
@click.option("-l", "--long", "long_", is_flag=True, help="Show mode, size and mtime.")
@click.option("--recursive", is_flag=True, help="With DIRS: list everything below them.")
@snapshot_filter_options
@pass_settings
@clean_errors
def ls(
    s: Settings, snapshot: str, dirs: tuple[str, ...], long_: bool, recursive: bool, **kw: Any
) -> None:
    """List the files in a snapshot (only in DIRS, absolute paths, when given)."""
    from backup.snapshots import resolve_snapshot

    chosen = selection(kw)
    wanted = [os.fsencode(os.path.normpath(d)) for d in dirs]
    for d in dirs:
        if not d.startswith("/"):
            raise click.BadParameter(
                f"{d!r}: directories must be absolute paths", param_hint="DIRS"
            )
    repo = s.open()
    repo.load_index()
    sid, snap = resolve_snapshot(repo, snapshot, chosen)
    entries = []

    def visit(tree_id: bytes, prefix: bytes) -> None:
        from backup.tree import node_name

        for node in repo.load_tree(tree_id).get("nodes") or []:
            path = prefix + b"/" + node_name(node)
            inside = _within(path, wanted)
            if inside:
                entries.append(
                    {
                        "path": os.fsdecode(path),
                        "type": node.get("type"),
                        "size": node.get("size", 0),
                        "mode": node.get("mode", 0),
                        "mtime": node.get("mtime"),
                        "uid": node.get("uid"),
                        "gid": node.get("gid"),
                    }
                )
            if node.get("type") != "dir" or not node.get("subtree"):
                continue
            # as restic: below a listed directory only with --recursive, else its children
            if (inside and (recursive or not wanted or path in wanted)) or (
                not inside and _approaching(path, wanted)
            ):
                visit(bytes.fromhex(node["subtree"]), path)

    visit(bytes.fromhex(snap["tree"]), b"")

    def text() -> str:
        if not long_:
            return "\n".join(e["path"] for e in entries)
        return "\n".join(
            f"{e['type']:<8} {oct(e['mode'] & 0o7777)[2:]:>5} {e['uid']:>5} {e['gid']:>5} "
            f"{e['size']:>12} {(e['mtime'] or '')[:19]} {e['path']}"
            for e in entries
        )

    emit(s, {"snapshot": sid, "nodes": entries}, text)


@cli.command()
@click.argument("snapshot", default="latest")
@click.option(
    "-t",
    "--target",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to restore into.",
)
@click.option("-i", "--include", multiple=True, help="Restore only what matches (restic pattern).")
@click.option("--iinclude", multiple=True, help="Like --include, ignoring case.")
@click.option("-e", "--exclude", multiple=True, help="Leave out what matches (restic pattern).")
@click.option("--iexclude", multiple=True, help="Like --exclude, ignoring case.")
@click.option("--verify", is_flag=True, help="Re-read and hash every restored file.")
@snapshot_filter_options
@pass_settings
@clean_errors
def restore(
    s: Settings,
    snapshot: str,
    target: str,
    include: tuple[str, ...],
    iinclude: tuple[str, ...],
    exclude: tuple[str, ...],
    iexclude: tuple[str, ...],
    verify: bool,
    **kw: Any,
) -> None:
    """Restore a snapshot (or the paths the patterns pick) with its metadata."""
    from backup.patterns import validate

    validate([*include, *iinclude, *exclude, *iexclude])
    chosen = selection(kw)
    s.start_open()
    from backup.progress import Progress
    from backup.restorer import RestoreFilter, Restorer
    from backup.snapshots import resolve_snapshot

    picks = RestoreFilter(list(include), list(exclude), list(iinclude), list(iexclude))
    repo = s.open()
    # the index and trees load while the lock waits for other lockers; files are written
    # only after it is confirmed (the restorer checks the repository's guards first)
    with s.lock(repo, defer_check=True):
        repo.load_index()
        sid, snap = resolve_snapshot(repo, snapshot, chosen)
        progress = Progress(enabled=not s.json)
        result = Restorer(repo, progress=progress).restore(
            snap, target, verify=verify, selection=picks
        )
    for e in result.errors:
        click.echo(f"error: {e}", err=True)
    emit(
        s,
        {"snapshot": sid, **asdict(result)},
        lambda: (
            f"restored snapshot {sid[:8]} to {target}: {result.files} files, {result.dirs} dirs, "
            f"{result.bytes} bytes" + (f", {result.verified} verified" if verify else "")
        ),
    )
    if result.errors:
        sys.exit(1)
