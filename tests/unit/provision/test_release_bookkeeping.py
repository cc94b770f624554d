"""The server's release bookkeeping (provision/server/releases.py), on a scratch release tree
described by a layout file as roles/platform renders it: which release is previous, which ones
pruning keeps, and that a refused release leaves nothing behind."""

from __future__ import annotations

import json

import pytest

from provision.inventory import resolve, role_defaults
from provision.server import layout
from provision.server.releases import Releases
from provision.templating import render


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """The role defaults with platform_root in tmp_path, rendered to a layout file the server
    side loads (EYESHOTS_LAYOUT)."""
    defaults, origins = role_defaults()
    values = resolve(
        {**defaults, "inventory_hostname": "t", "platform_root": str(tmp_path)}, origins
    )
    path = tmp_path / "layout.json"
    path.write_text(render("platform", "layout.json.j2", values))
    monkeypatch.setenv("EYESHOTS_LAYOUT", str(path))
    (tmp_path / "releases").mkdir()
    return tmp_path


def install(tree, *versions: str) -> None:
    for version in versions:
        venv_bin = tree / "releases" / version / "venv" / "bin"
        venv_bin.mkdir(parents=True)
        (venv_bin / "eyeshots-server").touch()


def activated(tree, *versions: str) -> None:
    with open(tree / "history.jsonl", "a") as log:
        for version in versions:
            log.write(json.dumps({"version": version, "activated": "2026-11-26T00:00:00Z"}) + "\n")
    link = tree / "current"
    link.unlink(missing_ok=True)
    link.symlink_to(tree / "releases" / versions[-1])


def test_the_layout_file_places_the_releases(tree):
    here = layout.load()
    assert str(here.releases) == f"{tree}/releases" and str(here.current) == f"{tree}/current"
    assert str(here.venv_bin("7")) == f"{tree}/releases/7/venv/bin/eyeshots-server"


def test_a_server_without_its_layout_file_says_to_provision(tree, monkeypatch):
    monkeypatch.setenv("EYESHOTS_LAYOUT", str(tree / "missing.json"))
    with pytest.raises(Exception, match="run `eyeshots provision` first"):
        layout.load()


def test_previous_is_the_last_other_live_release_still_installed(tree):
    releases = Releases(layout.load())
    install(tree, "1", "2", "3")
    activated(tree, "1", "2", "3", "2")  # 3 went live, then a rollback to 2
    assert releases.current() == "2" and releases.previous() == "3"
    (tree / "releases" / "3" / "venv" / "bin" / "eyeshots-server").unlink()
    assert releases.previous() == "1"


def test_prune_keeps_the_newest_and_always_current_and_previous(tree):
    releases = Releases(layout.load())
    install(tree, *"123456")
    activated(tree, "1", "2")  # an old release is current, 1 is previous
    releases.prune(keep=3)
    assert releases.installed() == ["1", "2", "6"]


def test_a_refused_release_is_removed_but_never_one_that_went_live(tree):
    releases = Releases(layout.load())
    install(tree, "1", "2", "3")
    activated(tree, "1", "2")
    releases.discard("3")
    releases.discard("1")
    assert releases.installed() == ["1", "2"]


def test_make_current_switches_the_link_and_records_the_activation(tree):
    releases = Releases(layout.load())
    install(tree, "1", "2")
    releases.make_current("1")
    releases.make_current("2")
    assert releases.current() == "2" and releases.previous() == "1"
    assert [e["version"] for e in releases.history()] == ["1", "2"]


def test_releases_lists_marks_and_activation_times(tree):
    install(tree, "1", "2")
    activated(tree, "1", "2")
    listed = Releases(layout.load()).listing()
    assert [(r["version"], r["current"], r["previous"]) for r in listed] == [
        ("1", False, True),
        ("2", True, False),
    ]
    assert listed[1]["activated"] == "2026-11-26T00:00:00Z"
