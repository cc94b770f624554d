"""Missing host tools: one line naming the package to install, exit 2, nothing created.
Root is needed to get past the root check, hence tests/hosts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from sandboxes import machine_name

from provision.sandbox.machine import REQUIRED_TOOLS


@pytest.fixture
def operator(tmp_path):
    dirs = {name: tmp_path / name for name in ("state", "cache", "config", "bin")}
    dirs["bin"].mkdir()
    env = {
        **os.environ,
        "EYESHOTS_STATE_DIR": str(dirs["state"]),
        "EYESHOTS_CACHE_DIR": str(dirs["cache"]),
        "EYESHOTS_CONFIG_DIR": str(dirs["config"]),
        "PATH": str(dirs["bin"]),
    }
    return env, dirs


def _provide(bin_dir, tools):
    for tool in tools:
        (bin_dir / tool).symlink_to(shutil.which(tool))


def _up(env):
    return subprocess.run(
        [sys.executable, "-m", "provision", "sandbox", "up", machine_name("tpre")],
        capture_output=True,
        text=True,
        env=env,
    )


def _nothing_created(dirs):
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    made = [d for key, d in dirs.items() if key != "bin" and d.exists()]
    return made == [] and "eyeshots-tpre" not in netns


@pytest.mark.parametrize("missing", ["systemd-nspawn", "iptables"])
def test_missing_tool(operator, missing):
    env, dirs = operator
    _provide(dirs["bin"], [tool for tool in [*REQUIRED_TOOLS, "debootstrap"] if tool != missing])
    result = _up(env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"eyeshots: error: {missing} is not installed; install it with `apt-get install {REQUIRED_TOOLS[missing]}`"
    ]
    assert _nothing_created(dirs)


def test_missing_debootstrap_with_no_cached_image(operator):
    env, dirs = operator
    _provide(dirs["bin"], REQUIRED_TOOLS)
    result = _up(env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "eyeshots: error: debootstrap is not installed; install it with `apt-get install debootstrap`"
    ]
    assert _nothing_created(dirs)
