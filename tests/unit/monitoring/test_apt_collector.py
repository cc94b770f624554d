"""apt collector: apt's real resolver (apt-get, pointed by APT_CONFIG at a small archive of its
own) decides the pending upgrades; a pending reboot is read from /run/reboot-required."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from monitoring.exporter.collectors.apt import AptCollector, pending_upgrades

SECURITY = {"Origin": "Debian", "Label": "Debian-Security", "Suite": "stable-security"}
UPDATES = {"Origin": "Debian", "Label": "Debian", "Suite": "stable-updates"}


class AptRoot:
    """An apt configuration, dpkg status and package lists under one folder, used through
    APT_CONFIG exactly as apt-get on a host uses /etc/apt and /var/lib."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("etc/apt/apt.conf.d", "etc/apt/preferences.d", "etc/apt/sources.list.d",
                    "var/lib/apt/lists/partial", "var/lib/dpkg", "var/cache/apt/archives/partial"):  # fmt: skip
            (root / sub).mkdir(parents=True)
        self.config = root / "apt.conf"
        self.config.write_text(
            f'Dir "{root}/";\nDir::State::status "{root}/var/lib/dpkg/status";\n'
            'APT::Architecture "amd64";\nAPT::Architectures { "amd64"; };\n'
            'Debug::NoLocking "true";\n'
        )
        self.suites: list[str] = []
        self.installed({})

    def installed(self, packages: dict[str, str]) -> None:
        (self.root / "var/lib/dpkg/status").write_text(
            "".join(
                f"Package: {name}\nStatus: install ok installed\nPriority: optional\n"
                f"Architecture: amd64\nVersion: {version}\nMaintainer: x <x@example.org>\n"
                "Description: test package\n\n"
                for name, version in packages.items()
            )
        )

    def archive(self, release: dict[str, str], packages: dict[str, str]) -> None:
        """A suite's Release and Packages files as `apt update` leaves them in lists/."""
        suite = release["Suite"]
        self.suites.append(suite)
        (self.root / "etc/apt/sources.list").write_text(
            "".join(f"deb [trusted=yes] file:/archive {s} main\n" for s in self.suites)
        )
        lists = self.root / "var/lib/apt/lists"
        prefix = f"_archive_dists_{suite}"
        (lists / f"{prefix}_Release").write_text(
            "".join(f"{k}: {v}\n" for k, v in release.items())
            + "Architectures: amd64\nComponents: main\n"
        )
        (lists / f"{prefix}_main_binary-amd64_Packages").write_text(
            "".join(
                f"Package: {name}\nVersion: {version}\nArchitecture: amd64\n"
                f"Maintainer: x <x@example.org>\nFilename: pool/{name}_{version}.deb\n"
                "Size: 1\nDescription: test package\n\n"
                for name, version in packages.items()
            )
        )


@pytest.fixture
def apt_root(tmp_path, monkeypatch) -> AptRoot:
    root = AptRoot(tmp_path / "apt")
    monkeypatch.setenv("APT_CONFIG", str(root.config))
    return root


def _collector(settings, root: AptRoot) -> AptCollector:
    collector = AptCollector(settings)
    # apt-get on a loaded CI machine can take tens of seconds; the test waits for its answer.
    collector.first_wait = 300
    collector.state_files = (
        str(root.root / "var/lib/dpkg/status"),
        str(root.root / "var/lib/apt/lists"),
    )
    return collector


def test_pending_upgrades_by_origin_from_apts_resolver(settings, tmp_path, apt_root, samples):
    settings.rootfs = str(tmp_path)
    apt_root.installed({"libssl3": "3.0.1", "openssh-server": "1:9.2", "tzdata": "2024a"})
    apt_root.archive(SECURITY, {"libssl3": "3.0.2", "openssh-server": "1:9.2p2"})
    apt_root.archive(UPDATES, {"tzdata": "2025b", "not-installed": "1.0"})
    got = samples(_collector(settings, apt_root).collect())
    pending = {k[1]: v for k, v in got.items() if k[0] == "apt_upgrades_pending"}
    assert pending == {
        (("arch", "amd64"), ("origin", "Debian-Security:stable-security")): 2,
        (("arch", "amd64"), ("origin", "Debian:stable-updates")): 1,
    }
    assert got[("node_reboot_required", ())] == 0
    assert not any(k[0] == "node_reboot_required_since_timestamp_seconds" for k in got)


def test_nothing_pending_and_a_pending_reboot_with_its_time(settings, tmp_path, apt_root, samples):
    settings.rootfs = str(tmp_path)
    apt_root.installed({"libssl3": "3.0.2"})
    apt_root.archive(SECURITY, {"libssl3": "3.0.2"})
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "reboot-required").write_text("*** System restart required ***\n")
    os.utime(tmp_path / "run" / "reboot-required", (1_700_000_000, 1_700_000_000))
    got = samples(_collector(settings, apt_root).collect())
    assert not any(k[0] == "apt_upgrades_pending" for k in got)
    assert got[("node_reboot_required", ())] == 1
    assert got[("node_reboot_required_since_timestamp_seconds", ())] == 1_700_000_000


def test_apt_runs_again_only_when_its_state_changed(settings, apt_root, samples, monkeypatch):
    apt_root.installed({"libssl3": "3.0.1"})
    apt_root.archive(SECURITY, {"libssl3": "3.0.2"})
    collector = _collector(settings, apt_root)
    runs = []
    monkeypatch.setattr(
        "monitoring.exporter.collectors.apt.subprocess.run", _counting(runs, subprocess.run)
    )

    def pending() -> float:
        got = samples(collector.collect())
        return sum(v for k, v in got.items() if k[0] == "apt_upgrades_pending")

    assert pending() == 1 and pending() == 1
    assert len(runs) == 1 and collector.refreshing() is None
    # The upgrade was installed: dpkg's status changed, so apt is asked again in the background;
    # scrapes meanwhile serve the last answer.
    apt_root.installed({"libssl3": "3.0.2"})
    os.utime(apt_root.root / "var/lib/dpkg/status", (2_000_000_000, 2_000_000_000))
    refresh = collector.refreshing()
    assert refresh is not None
    refresh.join(300)
    assert pending() == 0
    assert len(runs) == 2


def _counting(runs: list, run):
    def wrapper(*args, **kwargs):
        runs.append(args)
        return run(*args, **kwargs)

    return wrapper


def test_a_failing_apt_fails_the_collector_instead_of_reporting_zero(settings, apt_root):
    collector = _collector(settings, apt_root)
    collector.apt_get = "false"
    families = []
    with pytest.raises(RuntimeError, match="apt-get failed"):
        families.extend(collector.collect())
    # The reboot series are still served; only the upgrade counts are missing.
    assert "node_reboot_required" in {f.name for f in families}
    assert "apt_upgrades_pending" not in {f.name for f in families}


def test_parser_reads_every_origin_of_a_package():
    # apt-get's own line for a package in both the point release and the security archive.
    line = (
        "Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, "
        "Debian-Security:12/oldstable-security [amd64])"
    )
    assert pending_upgrades(line + "\nConf libgcrypt20 (1.10.1-3+deb12u1 ...)\n") == {
        ("Debian:12.15/oldstable,Debian-Security:12/oldstable-security", "amd64"): 1
    }


def test_eyeshots_status_counts_pending_and_security_updates_and_the_reboot(
    apt_root, tmp_path, monkeypatch
):
    from provision.release import status_commands
    from provision.server import hoststatus

    apt_root.installed({"libssl3": "3.0.1", "tzdata": "2024a"})
    apt_root.archive(SECURITY, {"libssl3": "3.0.2"})
    apt_root.archive(UPDATES, {"tzdata": "2025b"})
    flag = tmp_path / "reboot-required"
    monkeypatch.setattr("monitoring.exporter.collectors.apt.REBOOT_REQUIRED", str(flag))
    found = hoststatus.updates()
    assert found == {"pending": 2, "security": 1, "reboot_required_since": None}
    assert status_commands._updates(found) == "2 pending (1 security)   <-- attention"
    flag.write_text("*** System restart required ***\n")
    os.utime(flag, (found_since := os.stat(flag).st_mtime - 3 * 86400, found_since))
    again = hoststatus.updates()
    assert again["reboot_required_since"] == found_since
    assert "reboot needed for 3.0 days" in status_commands._updates(again)
    apt_root.installed({"libssl3": "3.0.2", "tzdata": "2025b"})
    flag.unlink()
    assert status_commands._updates(hoststatus.updates()) == "0 pending (0 security)"
