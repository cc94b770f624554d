"""The --keep-* options `run` and `forget` share, turned into a retention Policy."""

from __future__ import annotations

from collections.abc import Callable

import click

from backup.forget import PERIODS, Duration, Policy
from backup.snapshots import split_tags


def policy_options(fn: Callable) -> Callable:
    for period in reversed(PERIODS):
        fn = click.option(
            f"--keep-within-{period}",
            metavar="DURATION",
            help=f"Keep the newest {period} snapshots within DURATION of the newest (1y2m3d4h).",
        )(fn)
    fn = click.option(
        "--keep-within",
        metavar="DURATION",
        help="Keep snapshots less than DURATION older than the newest (e.g. 1y2m3d4h).",
    )(fn)
    for name in ("yearly", "monthly", "weekly", "daily", "hourly", "last"):
        fn = click.option(
            f"--keep-{name}",
            type=click.IntRange(min=0),
            default=0,
            help=f"Keep the {name if name == 'last' else 'newest ' + name} snapshots (count).",
        )(fn)
    return click.option(
        "--keep-tag",
        multiple=True,
        help="Keep snapshots with these tags: a,b = both a and b; repeat for either.",
    )(fn)


def policy(kw: dict) -> Policy:
    """Builds the Policy from (and removes) the options policy_options added."""

    def duration(text: str | None) -> Duration:
        return Duration.parse(text) if text else Duration()

    return Policy(
        last=kw.pop("keep_last"),
        hourly=kw.pop("keep_hourly"),
        daily=kw.pop("keep_daily"),
        weekly=kw.pop("keep_weekly"),
        monthly=kw.pop("keep_monthly"),
        yearly=kw.pop("keep_yearly"),
        tags=split_tags(kw.pop("keep_tag")),
        within=duration(kw.pop("keep_within")),
        within_periods={p: duration(kw.pop(f"keep_within_{p}")) for p in PERIODS},
    )
