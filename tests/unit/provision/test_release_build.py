"""The release builder's choices that do not need a server: version names and wheel tags."""

from __future__ import annotations

import re
import subprocess
import zipfile

from eyeshots_cli import PROJECT_ROOT

from provision.release.build import WheelTarget, build, new_version


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


def test_build_makes_one_wheel_and_a_wheelhouse_for_the_platform(tmp_path, monkeypatch):
    monkeypatch.setenv("EYESHOTS_CACHE_DIR", str(tmp_path))
    made = build(WheelTarget("3.11", "x86_64", "2.36"), version="20260101000000-test")
    with zipfile.ZipFile(made.wheel) as wheel:
        names = wheel.namelist()
    # the templates, static files and migrations travel inside the wheel
    assert any(n.startswith("app/alembic/versions/") for n in names)
    assert any(n.startswith("app/templates/") for n in names)
    wheels = {p.name for p in made.wheelhouse.glob("*.whl")}
    assert any(n.startswith("pydantic_core-") and "cp311" in n for n in wheels)
    assert not any("win" in n or "macosx" in n for n in wheels)
    # every locked dependency has its wheel: pip resolves offline from the wheelhouse alone
    check = subprocess.run(
        ["uv", "pip", "install", "--dry-run", "--offline", "--no-index", "--find-links",
         str(made.wheelhouse), "--python", "3.11", "--target", str(tmp_path / "t"),
         "-r", str(made.requirements), str(made.wheel)],
        capture_output=True, text=True, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr[-2000:]
    again = build(WheelTarget("3.11", "x86_64", "2.36"), version="20260101000001-test")
    assert again.wheelhouse == made.wheelhouse
