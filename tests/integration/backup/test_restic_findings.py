"""Issue 14's findings, each replayed against the stock restic as the oracle."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

from click.testing import CliRunner

import backup.archiver as archiver_module
import backup.chunker as chunker_module
from backup.backends.base import FileType
from backup.chunker import Chunker
from backup.cli import cli
from backup.tree import node_from_stat

EYESHOTS = str(Path(sys.executable).parent / "eyeshots")
BAD_TARGET = b"bad\xfftarget"
BAD_XATTR = b"user.\xfe\xff"
BAD_NAME = b"caf\xe9.txt"  # Latin-1, not UTF-8


def run_args(tmp_path: Path, *extra: str) -> list[str]:
    return [
        "run",
        "--tag",
        "t",
        "--state-dir",
        str(tmp_path / "state"),
        "--textfile-dir",
        "",
        *extra,
    ]


def non_utf8_tree(root: Path) -> Path:
    src = root / "src"
    src.mkdir(parents=True)
    srcb = os.fsencode(src)
    os.symlink(BAD_TARGET, srcb + b"/link")
    (src / "file").write_text("plain\n")
    os.setxattr(srcb + b"/file", BAD_XATTR, b"value")
    with open(srcb + b"/" + BAD_NAME, "wb") as f:
        f.write(b"latin-1 name\n")
    return src


def raw_tree_blobs(repo) -> list[bytes]:
    repo.load_index()
    return [repo.load_blob("tree", blob_id) for blob_id, _ in repo.index.blobs("tree")]


# --- finding 1: non-UTF-8 link targets and xattr names --------------------------------------


def test_non_utf8_names_targets_and_xattrs_round_trip_both_ways(local_repo, env, tmp_path, invoke):
    repo, restic = local_repo
    src = non_utf8_tree(tmp_path)
    invoke(env, *run_args(tmp_path), str(src))
    # the trees are valid UTF-8 JSON, with restic's fields for what UTF-8 cannot hold
    nodes = [n for blob in raw_tree_blobs(repo) for n in json.loads(blob.decode())["nodes"]]
    link = next(n for n in nodes if n["name"] == "link")
    assert base64.b64decode(link["linktarget_raw"]) == BAD_TARGET
    assert link["linktarget"] == "bad\ufffdtarget"
    names = {a["name"] for n in nodes for a in n.get("extended_attributes") or []}
    assert "user.\ufffd\ufffd" in names
    assert "no errors were found" in restic.run("check", "--read-data").stdout

    out = tmp_path / "ours"
    invoke(env, "restore", "latest", "-t", str(out))
    restored = os.fsencode(out / src.relative_to("/"))
    assert os.readlink(restored + b"/link") == BAD_TARGET
    assert open(restored + b"/" + BAD_NAME, "rb").read() == b"latin-1 name\n"
    invoke(env, "ls", "latest")
    invoke(env, "check", "--read-data")
    # the next backups of the same paths work (they read the previous trees as parents)
    (src / "more").write_text("x")
    invoke(env, *run_args(tmp_path), str(src))
    invoke(env, "forget", "--keep-last", "1", "--prune")

    # restic reads and restores our trees; 0.14 predates linktarget_raw and restores the
    # replacement text, as it does for its own snapshots of the same link
    restic.run("restore", "latest", "--target", str(tmp_path / "restic-ours"))
    restic.run("backup", str(src))
    theirs = restic.json("snapshots")[-1]["id"]
    restic.run("restore", theirs, "--target", str(tmp_path / "restic-theirs"))
    invoke(env, "restore", theirs, "-t", str(tmp_path / "ours-theirs"))
    rel = os.fsencode(src.relative_to("/"))
    for name in (b"/link",):
        assert os.readlink(os.fsencode(tmp_path / "ours-theirs") + b"/" + rel + name) == (
            os.readlink(os.fsencode(tmp_path / "restic-theirs") + b"/" + rel + name)
        )


def test_trees_written_raw_by_the_old_engine_read_and_heal(
    local_repo, env, tmp_path, monkeypatch, invoke
):
    """Repositories that already hold such a broken tree: every command reads them (the
    documented recovery), and the next backup writes proper trees."""
    repo, restic = local_repo
    src = non_utf8_tree(tmp_path)

    def old_node(name, st, path=None):
        node = node_from_stat(name, st, path)
        if node and node.pop("linktarget_raw", None):
            node["linktarget"] = os.readlink(path).decode("utf-8", "surrogateescape")
        for attr in (node or {}).get("extended_attributes") or []:
            attr["name"] = os.fsdecode(BAD_XATTR) if "\ufffd" in attr["name"] else attr["name"]
        return node

    def old_encode(nodes):
        nodes = sorted(nodes, key=lambda n: n["name"])
        doc = json.dumps({"nodes": nodes}, separators=(",", ":"), ensure_ascii=False)
        return (doc + "\n").encode("utf-8", "surrogateescape")

    monkeypatch.setattr(archiver_module, "node_from_stat", old_node)
    monkeypatch.setattr(archiver_module, "encode_tree", old_encode)
    invoke(env, *run_args(tmp_path), str(src))
    monkeypatch.undo()
    assert any(b"\xff" in blob for blob in raw_tree_blobs(repo)), "the old bug is replayed"

    out = tmp_path / "out"
    invoke(env, "restore", "latest", "-t", str(out))
    restored = os.fsencode(out / src.relative_to("/"))
    assert os.readlink(restored + b"/link") == BAD_TARGET
    assert os.getxattr(restored + b"/file", BAD_XATTR) == b"value"
    invoke(env, "ls", "latest")
    invoke(env, "check")
    invoke(env, *run_args(tmp_path), str(src))
    invoke(env, "forget", "--keep-last", "1", "--prune")
    assert not any(b"\xff" in blob for blob in raw_tree_blobs(repo))
    restic.run("check", "--read-data")


# --- finding 2: a file growing while it is read ----------------------------------------------


def test_file_growing_after_open_is_read_in_full_windows(tmp_path, monkeypatch):
    path = tmp_path / "growing.log"
    path.write_bytes(os.urandom(600 * 1024))
    real_fstat = os.fstat
    grown = threading.Event()

    def fstat_then_grow(fd):
        st = real_fstat(fd)
        if not grown.is_set():
            grown.set()
            with open(path, "ab") as f:  # the writer appends right after the size was taken
                f.write(os.urandom(3 * 1024 * 1024))
        return st

    monkeypatch.setattr(chunker_module.os, "fstat", fstat_then_grow)
    reads = 0
    real_mmap = chunker_module.mmap.mmap

    def counting_mmap(*a, **kw):
        nonlocal reads
        reads += 1
        return real_mmap(*a, **kw)

    monkeypatch.setattr(chunker_module.mmap, "mmap", counting_mmap)
    sizes: list[int] = []
    reader = threading.Thread(
        target=lambda: sizes.extend(len(c) for c in Chunker(0x3DA3358B4DC173).chunks(str(path))),
        daemon=True,
    )
    reader.start()
    reader.join(60)  # before the fix this took hours (issue 14: a 64 KiB append, 300 s)
    assert not reader.is_alive(), "chunking a grown file did not finish"
    assert sum(sizes) == path.stat().st_size == 600 * 1024 + 3 * 1024 * 1024
    # before the fix every byte past the stale size cost a window: ~3 million here
    assert reads <= 4


# --- findings 3 and 4: tags a,b and the job's retention scope --------------------------------


def test_job_retention_leaves_other_hosts_and_manual_snapshots_alone(
    local_repo, env, tmp_path, invoke
):
    _, restic = local_repo
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("data\n")
    for host in ("h1", "h2"):
        for _ in range(2):
            restic.run("backup", "--host", host, "--tag", "manual", str(src))
    for _ in range(3):
        invoke(env, *run_args(tmp_path, "--host", "h3", "--keep-last", "1"), str(src))
    hosts = sorted(s["hostname"] for s in restic.json("snapshots"))
    assert hosts == ["h1", "h1", "h2", "h2", "h3"]
    restic.run("check", "--read-data")


# --- finding 5: mode 000 ---------------------------------------------------------------------


def test_mode_000_survives_both_ways(local_repo, env, tmp_path, invoke):
    _, restic = local_repo
    src = tmp_path / "src"
    src.mkdir()
    locked = src / "locked"
    locked.write_text("secret\n")
    locked.chmod(0)
    restic.run("backup", str(src))
    invoke(env, "restore", "latest", "-t", str(tmp_path / "ours"))
    rel = locked.relative_to("/")
    assert stat.S_IMODE((tmp_path / "ours" / rel).stat().st_mode) == 0
    invoke(env, *run_args(tmp_path), str(src))
    restic.run("restore", "latest", "--target", str(tmp_path / "theirs"))
    assert stat.S_IMODE((tmp_path / "theirs" / rel).stat().st_mode) == 0


# --- finding 7: unreadable directories, finding 9: read errors -------------------------------


def without_root_powers(*cmd: str) -> list[str]:
    """Run as root but without the capabilities that bypass file permissions, so a 000
    directory is unreadable (the tests run as root)."""
    drop = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={drop}", f"--bounding-set={drop}", *cmd]


def test_unreadable_directory_is_left_out_as_restic_does(local_repo, env, tmp_path, invoke):
    _, restic = local_repo
    src = tmp_path / "src"
    (src / "closed").mkdir(parents=True)
    (src / "closed" / "inside").write_text("x")
    (src / "open.txt").write_text("y")
    (src / "unreadable.txt").write_text("z")
    (src / "closed").chmod(0)
    (src / "unreadable.txt").chmod(0)
    theirs = subprocess.run(
        without_root_powers(restic.bin, "-r", restic.repo, "--no-cache", "backup", str(src)),
        env=restic.env,
        capture_output=True,
        text=True,
    )
    assert theirs.returncode == 3, theirs.stderr
    ours = subprocess.run(
        without_root_powers(EYESHOTS, "backup", *run_args(tmp_path), str(src)),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert ours.returncode == 3, ours.stderr
    # each error once, naming the full path
    errors = [line for line in ours.stderr.splitlines() if line.startswith("error:")]
    assert sorted(errors) == sorted(
        [
            f"error: {src / 'closed'}: Permission denied",
            f"error: {src / 'unreadable.txt'}: Permission denied",
        ]
    ), ours.stderr
    # the unreadable file is not counted as backed up
    summary = json.loads(
        CliRunner().invoke(cli, ["--json", "snapshots"], env=env).output
    )  # both snapshots
    assert len(summary) == 2
    listings = [
        {p for p in restic.run("ls", s["id"]).stdout.splitlines() if p.startswith(str(src))}
        for s in summary
    ]
    assert listings[0] == listings[1]
    assert str(src / "closed") not in listings[0]
    assert str(src / "open.txt") in listings[0]


def test_failed_files_are_not_counted(local_repo, env, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "good").write_text("fine\n")
    (src / "big").write_bytes(os.urandom(700_000))
    (src / "big").chmod(0)
    proc = subprocess.run(
        without_root_powers(
            EYESHOTS,
            "backup",
            "--json",
            *run_args(tmp_path),
            str(src),
        ),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 3, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["files"] == 1
    assert result["errors"] == [f"{src / 'big'}: Permission denied"]


def test_truncated_key_file_is_not_called_a_wrong_password(local_repo, env):
    _, restic = local_repo
    keys = Path(restic.repo) / "keys"
    (key,) = keys.iterdir()
    data = key.read_bytes()
    key.chmod(0o600)
    key.write_bytes(data[: len(data) // 2])
    result = CliRunner().invoke(cli, ["snapshots"], env=env)
    assert result.exit_code == 1
    assert "wrong password" not in result.output
    assert f"keys/{key.name} is damaged" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_check_does_not_offer_prune_for_packs_with_the_only_copy(local_repo, env, tmp_path, invoke):
    repo, restic = local_repo
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_bytes(os.urandom(100_000))
    invoke(env, *run_args(tmp_path), str(src))
    for name in repo.list_ids(FileType.INDEX):
        repo.backend.remove(FileType.INDEX, name)
    result = invoke(env, "check", code=1)
    assert "prune removes" not in result.output
    assert "repair index" in result.output
    fixed = invoke(env, "repair", "index")
    assert "index files written" in fixed.output
    invoke(env, "check", "--read-data")
    restic.run("check", "--read-data")
    # restic's older name works too
    invoke(env, "rebuild-index")
