"""The .deb cache shared by sandbox machines, without sharing apt's lock.

apt locks `/var/cache/apt/archives/lock` and fails at once (no wait) when another machine holds
it, so each machine gets its own archive folder: seeded with hard links to the shared cache when
it boots, and its new downloads linked back into the shared cache before its disk is removed.
Hard links cost no space and no copy; where they cannot be made (another file system) the
machine simply downloads what it needs.
"""

from __future__ import annotations

import os
from pathlib import Path

from provision.paths import cache_dir


def shared() -> Path:
    return cache_dir() / "apt-archives"


def _link_debs(source: Path, target: Path) -> None:
    if not source.is_dir():
        return
    for deb in source.glob("*.deb"):
        destination = target / deb.name
        if destination.exists():
            continue
        try:
            os.link(deb, destination)
        except FileExistsError:
            continue  # another machine published the same package a moment ago
        except OSError:
            return


def seed(archives: Path) -> Path:
    """Make a machine's own archive folder, holding every .deb the shared cache has."""
    (archives / "partial").mkdir(parents=True, exist_ok=True)
    shared().mkdir(parents=True, exist_ok=True)
    _link_debs(shared(), archives)
    return archives


def publish(archives: Path) -> None:
    """Keep what a machine downloaded for the next machines."""
    _link_debs(archives, shared())
