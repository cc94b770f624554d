"""Fixtures for the backup engine's interop tests: the stock restic binary is the oracle."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from backup.backends.local import LocalBackend
from backup.crypto import KDFParams
from backup.repository import Repository

PASSWORD = "correct horse battery staple"
# cheap scrypt keeps the many key derivations in these tests fast; restic accepts any valid N
FAST_KDF = KDFParams(n=1024, r=8, p=1)


class Restic:
    def __init__(self, repo: str, env: dict[str, str] | None = None) -> None:
        path = shutil.which("restic")
        if path is None:
            raise RuntimeError("restic not installed: apt-get install restic (tests/packages.d)")
        self.bin = path
        self.repo = repo
        self.env = {**os.environ, "RESTIC_PASSWORD": PASSWORD, **(env or {})}
        self.extra: list[str] = []

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [self.bin, "-r", self.repo, "--no-cache", *self.extra, *args]
        proc = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str) -> object:
        return json.loads(self.run(*args, "--json").stdout)


def make_dataset(root: Path) -> Path:
    """A small tree exercising every node kind and metadata restic stores."""
    src = root / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    rnd = hashlib.sha256(b"seed").digest()
    blob = bytearray()
    while len(blob) < 2_500_000:
        rnd = hashlib.sha256(rnd).digest()
        blob += rnd
    (src / "random.bin").write_bytes(bytes(blob))
    (src / "text.txt").write_text("".join(f"line {i}\n" for i in range(150_000)))
    (src / "empty").write_bytes(b"")
    (src / "sub" / 'we"ird\tname ü').write_text("odd name\n")
    (src / "sub" / "deeper" / "small").write_bytes(b"x" * 10)
    os.symlink("text.txt", src / "link")
    os.symlink("/nonexistent/target", src / "dangling")
    os.link(src / "text.txt", src / "hardlink")
    os.mkfifo(src / "fifo")
    os.chmod(src / "sub", 0o2750)
    os.chmod(src / "sub" / "deeper" / "small", 0o600)
    os.chown(src / "sub" / "deeper" / "small", 1234, 5678)
    os.utime(src / "random.bin", ns=(1_600_000_000_123_456_789, 1_500_000_000_987_654_321))
    return src


def manifest(root: Path) -> dict[str, tuple]:
    """Everything a byte-for-byte-with-metadata restore must reproduce, by relative path."""
    out: dict[str, tuple] = {}
    inodes: dict[int, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            kind = stat.S_IFMT(st.st_mode)
            extra: object = None
            if stat.S_ISREG(kind):
                extra = hashlib.sha256(Path(p).read_bytes()).hexdigest()
                if st.st_nlink > 1:
                    extra = (extra, inodes.setdefault(st.st_ino, rel))
            elif stat.S_ISLNK(kind):
                extra = os.readlink(p)
            mtime = None if stat.S_ISLNK(kind) else st.st_mtime_ns
            out[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, mtime, extra)
    return out


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return make_dataset(tmp_path / "data")


@pytest.fixture
def local_repo(tmp_path: Path) -> tuple[Repository, Restic]:
    path = tmp_path / "repo"
    repo = Repository.init(LocalBackend(path), PASSWORD.encode(), FAST_KDF)
    return repo, Restic(str(path))


@pytest.fixture
def restic_factory():
    return Restic


@pytest.fixture
def tree_manifest():
    return manifest


@pytest.fixture
def password() -> str:
    return PASSWORD
