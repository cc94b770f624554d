"""Release bookkeeping on the server: which releases are installed, which one is current, the
activation history, the previous release, and pruning."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from provision.console import say
from provision.server.layout import Layout


class Releases:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def current(self) -> str | None:
        link = Path(self.layout.current)
        return link.resolve().name if link.is_symlink() and link.resolve().is_dir() else None

    def history(self) -> list[dict[str, str]]:
        path = Path(self.layout.history)
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def installed(self) -> list[str]:
        """Releases with a complete virtualenv (their server command exists)."""
        releases = Path(self.layout.releases)
        if not releases.is_dir():
            return []
        return sorted(
            p.name for p in releases.iterdir() if Path(self.layout.venv_bin(p.name)).exists()
        )

    def is_installed(self, version: str) -> bool:
        return Path(self.layout.venv_bin(version)).exists()

    def previous(self) -> str | None:
        """The release that was current before the current one, if it is still installed."""
        now = self.current()
        for entry in reversed(self.history()):
            version = entry["version"]
            if version != now and self.is_installed(version):
                return version
        return None

    def slot_of(self, version: str) -> int | None:
        env = Path(self.layout.release_dir(version)) / "instance.env"
        if not env.exists():
            return None
        for line in env.read_text().splitlines():
            if line.startswith("EYESHOTS_SLOT="):
                return int(line.split("=", 1)[1])
        return None

    def make_current(self, version: str) -> None:
        """Switch the `current` link atomically and record the activation."""
        link = Path(self.layout.current)
        scratch = link.with_name(".current.new")
        scratch.unlink(missing_ok=True)
        scratch.symlink_to(Path(self.layout.release_dir(version)))
        os.replace(scratch, link)
        entry = {
            "version": version,
            "activated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with open(self.layout.history, "a") as log:
            log.write(json.dumps(entry) + "\n")

    def discard(self, version: str) -> None:
        """A release that never went live leaves nothing behind (its journal keeps the logs)."""
        if version != self.current() and version not in {e["version"] for e in self.history()}:
            shutil.rmtree(self.layout.release_dir(version), ignore_errors=True)

    def prune(self, keep: int) -> None:
        """Keep the newest `keep` releases, and always the current and previous ones."""
        installed = self.installed()
        protected = {self.current(), self.previous()}
        surplus = [v for v in installed if v not in protected][: max(0, len(installed) - keep)]
        for version in surplus:
            shutil.rmtree(self.layout.release_dir(version), ignore_errors=True)
            say(f"removed old release {version}")

    def listing(self) -> list[dict[str, object]]:
        now, before = self.current(), self.previous()
        activated = {e["version"]: e["activated"] for e in self.history()}
        return [
            {
                "version": v,
                "current": v == now,
                "previous": v == before,
                "activated": activated.get(v, ""),
            }
            for v in self.installed()
        ]
