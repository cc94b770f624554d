"""The on-server agent's bookkeeping, on a scratch release tree: which release is previous,
which ones pruning keeps, and that a refused release leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import pytest

from provision.release import agent, layout


@pytest.fixture
def tree(tmp_path, monkeypatch):
    root = PurePosixPath(tmp_path)
    monkeypatch.setattr(layout, "RELEASES", root / "releases")
    monkeypatch.setattr(layout, "CURRENT", root / "current")
    monkeypatch.setattr(layout, "HISTORY", root / "history.jsonl")
    return tmp_path


def install(tree, *versions: str) -> None:
    for version in versions:
        venv_bin = tree / "releases" / version / "venv" / "bin"
        venv_bin.mkdir(parents=True)
        (venv_bin / "eyeshots").touch()


def activated(tree, *versions: str) -> None:
    with open(tree / "history.jsonl", "a") as log:
        for version in versions:
            log.write(json.dumps({"version": version, "activated": "2026-11-26T00:00:00Z"}) + "\n")
    link = tree / "current"
    link.unlink(missing_ok=True)
    link.symlink_to(tree / "releases" / versions[-1])


def test_previous_is_the_last_other_live_release_still_installed(tree):
    install(tree, "1", "2", "3")
    activated(tree, "1", "2", "3", "2")  # 3 went live, then a rollback to 2
    assert agent.current() == "2" and agent.previous() == "3"
    (tree / "releases" / "3" / "venv" / "bin" / "eyeshots").unlink()
    (tree / "releases" / "3" / "venv" / "bin").rmdir()
    (tree / "releases" / "3" / "venv").rmdir()
    (tree / "releases" / "3").rmdir()
    assert agent.previous() == "1"


def test_prune_keeps_the_newest_and_always_current_and_previous(tree):
    install(tree, *"123456")
    activated(tree, "1", "2")  # an old release is current, 1 is previous
    agent.prune(keep=3)
    assert agent.installed() == ["1", "2", "6"]


def test_a_refused_release_is_removed_but_never_one_that_went_live(tree):
    install(tree, "1", "2", "3")
    activated(tree, "1", "2")
    agent._discard("3")
    agent._discard("1")
    assert agent.installed() == ["1", "2"]


def test_releases_lists_marks_and_activation_times(tree):
    install(tree, "1", "2")
    activated(tree, "1", "2")
    listed = agent.releases()
    assert [(r["version"], r["current"], r["previous"]) for r in listed] == [
        ("1", False, True),
        ("2", True, False),
    ]
    assert listed[1]["activated"] == "2026-11-26T00:00:00Z"
