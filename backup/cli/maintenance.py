"""forget, prune, check, unlock, repair index: keeping the repository lean and sound."""

from __future__ import annotations

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
from backup.cli.policy import policy, policy_options


def _fraction(max_unused: str) -> float:
    try:
        return float(max_unused.rstrip("%")) / 100
    except ValueError as e:
        raise click.BadParameter(
            f"{max_unused!r}: expected a percentage like 5%", param_hint="--max-unused"
        ) from e


@cli.command()
@click.argument("snapshot_ids", nargs=-1)
@policy_options
@snapshot_filter_options
@click.option(
    "-g",
    "--group-by",
    default="host,paths",
    show_default=True,
    help="Apply the policy per group of these fields (host, paths, tags; '' for one group).",
)
@click.option("--prune", "do_prune", is_flag=True, help="Prune right after.")
@click.option("--max-unused", default="5%", show_default=True, help="For --prune.")
@click.option("-n", "--dry-run", is_flag=True, help="Only show what would be removed.")
@pass_settings
@clean_errors
def forget(
    s: Settings,
    snapshot_ids: tuple[str, ...],
    group_by: str,
    do_prune: bool,
    max_unused: str,
    dry_run: bool,
    **kw: Any,
) -> None:
    """Remove snapshots by ID or by a keep policy (restic semantics)."""
    from backup.forget import forget as forget_fn
    from backup.forget import parse_group_by
    from backup.prune import prune as prune_fn
    from backup.snapshots import resolve_snapshot

    chosen = selection(kw)
    keep_policy = policy(kw)
    groups = parse_group_by(group_by)
    if not snapshot_ids and keep_policy.empty():
        raise click.ClickException(
            "no policy given: pass snapshot IDs or --keep-* options (nothing was removed)"
        )
    repo = s.open()
    with s.lock(repo, exclusive=True):
        ids = {resolve_snapshot(repo, ref)[0] for ref in snapshot_ids} if snapshot_ids else None
        result = forget_fn(repo, keep_policy, chosen, groups, ids, dry_run)
        pruned = None
        if do_prune and not dry_run and result.remove:
            pruned = prune_fn(repo, _fraction(max_unused))
    report = {**asdict(result), "prune": asdict(pruned) if pruned else None}
    emit(
        s,
        report,
        lambda: (
            f"{'would remove' if dry_run else 'removed'} {len(result.remove)} snapshots, "
            f"kept {len(result.keep)}"
            + (f"; pruned {pruned.packs_removed + pruned.packs_repacked} packs" if pruned else "")
        ),
    )


@cli.command()
@click.option(
    "--max-unused",
    default="5%",
    show_default=True,
    help="Unused space to tolerate before repacking, as a percentage.",
)
@click.option("-n", "--dry-run", is_flag=True)
@pass_settings
@clean_errors
def prune(s: Settings, max_unused: str, dry_run: bool) -> None:
    """Delete data no snapshot uses; repack partly used packs; remove killed runs' temp files."""
    from backup.prune import prune as prune_fn

    fraction = _fraction(max_unused)
    repo = s.open()
    with s.lock(repo, exclusive=True):
        result = prune_fn(
            repo, fraction, dry_run, progress=None if s.json else lambda m: click.echo(m, err=True)
        )
    emit(
        s,
        asdict(result),
        lambda: (
            f"{'would remove' if dry_run else 'removed'} {result.packs_removed} packs, "
            f"repacked {result.packs_repacked}, freed {result.bytes_freed} bytes"
            + (
                f", removed {result.temp_files_removed} temp files"
                if result.temp_files_removed
                else ""
            )
        ),
    )


@cli.command(name="check")
@click.option("--read-data", is_flag=True, help="Also download and verify every pack.")
@click.option("--read-data-subset", help="Verify only part of the packs: n/t or p%.")
@pass_settings
@clean_errors
def check_cmd(s: Settings, read_data: bool, read_data_subset: str | None) -> None:
    """Verify the repository's structure (and, with --read-data, all its data)."""
    from backup.check import check

    repo = s.open()
    show = sys.stderr.isatty() and not s.json

    def progress(done: int, total: int) -> None:
        if show:
            click.echo(f"\rread {done}/{total} packs", nl=done == total, err=True)

    with s.lock(repo):
        result = check(repo, read_data, progress, read_data_subset)
    emit(
        s,
        {**asdict(result), "ok": result.ok},
        lambda: "\n".join(
            [f"hint: {h}" for h in result.hints]
            + [f"error: {e}" for e in result.errors]
            + ["no errors were found" if result.ok else f"{len(result.errors)} errors found"]
        ),
    )
    if not result.ok:
        sys.exit(1)


@cli.command()
@click.option("--remove-all", is_flag=True, help="Also remove locks that are not stale.")
@pass_settings
@clean_errors
def unlock(s: Settings, remove_all: bool) -> None:
    """Remove stale locks (older than 30 min, or of dead processes on this host)."""
    from backup.locks import remove_locks

    removed = remove_locks(s.open(), remove_all)
    emit(s, {"removed": removed}, f"removed {len(removed)} locks")


@cli.group()
def repair() -> None:
    """Repair a damaged repository."""


@repair.command(name="index")
@pass_settings
@clean_errors
def repair_index(s: Settings) -> None:
    """Build a new index from the packs' headers (lost or damaged index files)."""
    from backup.repair import rebuild_index

    repo = s.open()
    show = sys.stderr.isatty() and not s.json

    def progress(done: int, total: int) -> None:
        if show:
            click.echo(f"\rread {done}/{total} pack headers", nl=done == total, err=True)

    with s.lock(repo, exclusive=True):
        result = rebuild_index(repo, progress)
    for bad in result.unreadable_packs:
        click.echo(f"error: pack {bad} (left in place)", err=True)
    emit(
        s,
        asdict(result),
        lambda: (
            f"indexed {result.blobs_indexed} blobs in {result.packs_indexed} packs: "
            f"{result.index_files_written} index files written, "
            f"{result.index_files_removed} old ones removed"
        ),
    )
    if result.unreadable_packs:
        sys.exit(1)


cli.add_command(repair_index, name="rebuild-index")
