"""restic's pattern rules, checked by running both tools on the same tree with the same
patterns: what a backup leaves out, and what a restore picks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from backup.patterns import Matcher, PatternError, validate

FILES = [
    "a.txt",
    "B.TXT",
    "notes.md",
    "cache/tmp/x.bin",
    "cache/keep.txt",
    "sub/cache/tmp/y.bin",
    "sub/one.log",
    "sub/deep/two.log",
    "sub/deep/er/three.txt",
    "logs/2026/app.log",
    "logs/2026/app.txt",
    "photos/IMG_01.JPG",
    "photos/img_02.jpg",
    "photos/raw/img_03.cr2",
    "weird [x].txt",
    "q?.dat",
]

# (options for the backup); each list is given to both tools; {src} is the tree's root
BACKUP_CASES = [
    ["--exclude", "*.log"],
    ["--exclude", "cache/tmp"],
    ["--exclude", "sub/*"],
    ["--exclude", "deep/er"],
    ["--exclude", "{src}/sub"],
    ["--exclude", "**/tmp"],
    ["--exclude", "{src}/**/*.bin"],
    ["--exclude", "logs/**/*.txt"],
    ["--exclude", "*.txt", "--exclude", "!a.txt"],
    ["--exclude", "photos/*", "--exclude", "!photos/raw"],
    ["--exclude", "[a-c]*"],
    ["--exclude", "[^a-c]*.txt"],
    ["--exclude", "q\\?.dat"],
    ["--exclude", "weird [[]x].txt"],
    ["--exclude", "?.txt"],
    ["--iexclude", "*.jpg"],
    ["--iexclude", "PHOTOS/RAW", "--exclude", "*.md"],
    ["--exclude-if-present", "keep.txt"],
    ["--exclude-file", "{patterns}"],
]

RESTORE_CASES = [
    ["--include", "*.txt"],
    ["--include", "{src}/sub"],
    ["--include", "deep"],
    ["--include", "logs/**/*.log"],
    ["--include", "*.TXT"],
    ["--iinclude", "*.txt"],
    ["--exclude", "*.log"],
    ["--exclude", "sub/deep"],
    ["--exclude", "*.txt", "--exclude", "!a.txt"],
    ["--iexclude", "*.JPG"],
]


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("patterns") / "src"
    for rel in FILES:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(rel)
    (src.parent / "patterns.txt").write_text("# comment\n\n*.md\n  cache  \n")
    return src


def _fill(args: list[str], src: Path) -> list[str]:
    return [a.format(src=src, patterns=src.parent / "patterns.txt") for a in args]


def _listing(restic, snapshot: str, src: Path) -> set[str]:
    lines = restic.run("ls", snapshot).stdout.splitlines()
    return {os.path.relpath(p, src) for p in lines if p.startswith(str(src) + "/")}


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_backup_excludes_match_restic(local_repo, env, tree, tmp_path, invoke):
    _, restic = local_repo
    everything = None
    for n, case in enumerate(BACKUP_CASES):
        args = _fill(case, tree)
        restic.run("backup", "--host", f"r{n}", *args, str(tree))
        theirs = restic.json("snapshots", "--host", f"r{n}")[0]["id"]
        invoke(
            env,
            "backup",
            "--host",
            f"e{n}",
            "--state-dir",
            str(tmp_path / "state"),
            "--textfile-dir",
            "",
            *args,
            str(tree),
        )
        ours = json.loads(invoke(env, "--json", "snapshots", "--host", f"e{n}").output)[0]["id"]
        expected = _listing(restic, theirs, tree)
        everything = everything or _listing(restic, theirs, tree) | set(FILES)
        assert _listing(restic, ours, tree) == expected, case
        assert expected != everything, f"{case} must leave something out to prove anything"


def test_restore_filters_match_restic(local_repo, env, tree, tmp_path, invoke):
    _, restic = local_repo
    restic.run("backup", str(tree))
    rel = tree.relative_to("/")
    restic.run("restore", "latest", "--target", str(tmp_path / "all"))
    everything = _tree(tmp_path / "all" / rel)
    for n, case in enumerate(RESTORE_CASES):
        args = _fill(case, tree)
        theirs, ours = tmp_path / f"r{n}", tmp_path / f"e{n}"
        restic.run("restore", "latest", "--target", str(theirs), *args)
        invoke(env, "restore", "latest", "-t", str(ours), *args)
        expected = _tree(theirs / rel) if (theirs / rel).exists() else set()
        got = _tree(ours / rel) if (ours / rel).exists() else set()
        assert got == expected, case
        assert expected and expected != everything, f"{case} must pick some, not all"


def test_bad_patterns_are_refused_with_the_pattern_named(env, tree, invoke):
    with pytest.raises(PatternError, match=r"\[a-"):
        validate(["ok", "[a-"])
    result = invoke(env, "restore", "latest", "-t", "/nonexistent", "--include", "[a-", code=1)
    assert "invalid pattern '[a-'" in result.output


@pytest.mark.parametrize(
    "patterns,path,expected",
    [
        (["cache/tmp"], "/srv/x/cache/tmp/y", True),
        (["/srv/*"], "/srv/x/deeper", True),
        (["/x"], "/srv/x", False),
        (["**/b"], "/b", True),
        (["a/**/b"], "/q/a/b", True),
        (["*.txt", "!keep.txt"], "/d/keep.txt", False),
        (["*", "!/d"], "/d/e", False),
    ],
)
def test_matcher_rules(patterns, path, expected):
    assert Matcher(patterns).matches(path) is expected
