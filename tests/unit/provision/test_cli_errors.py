"""Argument and environment errors: one line naming the problem and the fix, non-zero exit,
nothing created."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import click
import pytest
from eyeshots_cli import eyeshots

from provision.cli import cli


@pytest.fixture
def isolated(tmp_path):
    """State, cache and config dirs of a fresh operator, so 'nothing created' can be checked."""
    dirs = {name: tmp_path / name for name in ("state", "cache", "config")}
    env = {
        "EYESHOTS_STATE_DIR": str(dirs["state"]),
        "EYESHOTS_CACHE_DIR": str(dirs["cache"]),
        "EYESHOTS_CONFIG_DIR": str(dirs["config"]),
    }
    return env, dirs


def _assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("eyeshots: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0]


def _nothing_created(dirs):
    return not any(path.exists() for path in dirs.values())


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


def test_every_command_has_help():
    commands = list(_all_commands(cli))
    assert ("sandbox", "up") in commands and ("provision",) in commands and ("up",) in commands
    for path in commands:
        result = eyeshots(*path, "--help")
        assert result.returncode == 0, (path, result.stderr)
        assert "Usage: " in result.stdout


def test_version():
    result = eyeshots("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("eyeshots, version ")


@pytest.mark.parametrize("name", ["Bad_Name", "9lives", "way-too-long-name", "a--b", "trailing-"])
def test_invalid_machine_name(isolated, name):
    env, dirs = isolated
    result = eyeshots("sandbox", "up", name, env=env)
    _assert_one_line_error(result, "invalid machine name", "lowercase letters")
    assert result.returncode == 2
    assert _nothing_created(dirs)


@pytest.mark.parametrize("subnet", ["8.8.8.0/24", "10.1.0.0/16", "nonsense"])
def test_invalid_subnet(isolated, subnet):
    env, dirs = isolated
    result = eyeshots("sandbox", "up", "box", "--subnet", subnet, env=env)
    if os.geteuid() != 0:
        _assert_one_line_error(result, "needs root")
    else:
        _assert_one_line_error(result, f"--subnet {subnet}")
    assert _nothing_created(dirs)


def _as_unprivileged(env):
    """Run the CLI as `nobody` when the tests run as root, so the root check really triggers."""
    if os.geteuid() != 0:
        return [], env
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to drop privileges"
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"], {
        **env,
        "HOME": "/nonexistent",
    }


def test_unknown_option_is_one_line():
    result = eyeshots("sandbox", "up", "--frobnicate")
    _assert_one_line_error(result, "No such option", "eyeshots sandbox up --help")
    assert result.returncode == 2


def test_not_root(isolated):
    env, dirs = isolated
    prefix, env = _as_unprivileged(env)
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "provision", "sandbox", "up", "box"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    _assert_one_line_error(result, "needs root", "sudo")
    assert _nothing_created(dirs)


def test_status_of_unknown_machine(isolated):
    env, _ = isolated
    result = eyeshots("sandbox", "status", "ghost", env=env)
    _assert_one_line_error(result, "no sandbox machine named 'ghost'", "eyeshots sandbox up ghost")


def test_up_honours_the_subnet_environment_variable(isolated):
    env, dirs = isolated
    result = eyeshots("up", env={**env, "EYESHOTS_SANDBOX_SUBNET": "8.8.8.0/24"})
    if os.geteuid() != 0:
        _assert_one_line_error(result, "needs root")
    else:
        _assert_one_line_error(result, "--subnet 8.8.8.0/24", "private /24")
    assert _nothing_created(dirs)
