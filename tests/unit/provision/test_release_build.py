"""The release builder's choices that do not need a server: version names and wheel tags."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import PurePosixPath

import pytest

from provision.release.build import WheelTarget, build, new_version
from provision.release.ship import install_failure, install_script


def test_versions_sort_by_time_and_name_the_commit():
    version = new_version()
    assert re.fullmatch(r"\d{14}-[0-9a-f]{7}(-dirty)?", version), version
    # valid as a systemd unit instance name: eyeshots-app@<version>.service
    assert re.fullmatch(r"[A-Za-z0-9:_.\-]+", version)


def test_a_tree_outside_git_gets_a_marked_version(tmp_path):
    assert new_version(tmp_path).endswith("-nogit")


def test_manylinux_tags_follow_the_servers_glibc():
    tags = WheelTarget("3.11", "x86_64", "2.36").pip_platforms()
    assert tags[0] == "manylinux_2_36_x86_64"
    assert {"manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64"} <= set(tags)
    old = WheelTarget("3.8", "aarch64", "2.12").pip_platforms()
    assert "manylinux2014_aarch64" not in old and "manylinux2010_aarch64" in old


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """One release built for this machine's Python (the sandboxes' too: Debian 12) in a
    scratch cache."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EYESHOTS_CACHE_DIR", str(cache))
        yield build(WheelTarget("3.11", "x86_64", "2.36"), version="20260101000000-test")


def test_build_makes_one_wheel_and_a_wheelhouse_for_the_platform(made, tmp_path):
    with zipfile.ZipFile(made.wheel) as wheel:
        names = wheel.namelist()
    # the templates, static files and migrations travel inside the wheel
    assert any(n.startswith("app/alembic/versions/") for n in names)
    assert any(n.startswith("app/templates/") for n in names)
    wheels = {p.name for p in made.wheelhouse.glob("*.whl")}
    assert any(n.startswith("pydantic_core-") and "cp311" in n for n in wheels)
    assert not any("win" in n or "macosx" in n for n in wheels)
    # the operator's tools stay on the operator's machine
    assert not any(n.startswith(("pyinfra-", "gevent-")) for n in wheels)
    # every locked dependency has its wheel, with its hash: pip resolves offline from the
    # wheelhouse alone
    check = subprocess.run(
        ["uv", "pip", "install", "--dry-run", "--offline", "--no-index", "--require-hashes",
         "--find-links", str(made.wheelhouse), "--python", "3.11", "--target", str(tmp_path / "t"),
         "-r", "requirements.txt"],
        capture_output=True, text=True, cwd=made.directory,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr[-2000:]
    again = build(WheelTarget("3.11", "x86_64", "2.36"), version="20260101000001-test")
    assert again.wheelhouse == made.wheelhouse


def test_the_server_refuses_a_wheel_whose_hash_differs_from_the_lock(made, tmp_path):
    """The install a server runs (ship.install_script), run here on the same Debian Python,
    over a wheelhouse in which one dependency was swapped for other bytes."""
    wheels, release = tmp_path / "wheels", tmp_path / "releases" / "1"
    wheels.mkdir()
    (release / "dist").mkdir(parents=True)
    for wheel in made.wheelhouse.glob("*.whl"):
        (wheels / wheel.name).symlink_to(wheel)
    (swapped,) = wheels.glob("six-*.whl")
    swapped.unlink()
    swapped.write_bytes(next(made.wheelhouse.glob("six-*.whl")).read_bytes() + b"tampered")
    for path in (made.wheel, made.requirements):
        shutil.copy(path, release / "dist")
    script = install_script(PurePosixPath(release), PurePosixPath(wheels), "1")
    result = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert result.returncode != 0
    said = install_failure(result.stderr, result.stdout, result.returncode)
    assert said.startswith("six==") and "differs from uv.lock's hash" in said, result.stderr
    assert not (release / "release.json").exists()
