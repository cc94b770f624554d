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
    os.setxattr(src / "text.txt", "user.origin", b"studio upload")
    os.setxattr(src / "sub", "user.empty", b"")
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
            xattrs = (
                None
                if stat.S_ISLNK(kind) or stat.S_ISFIFO(kind)
                else sorted((n, os.getxattr(p, n)) for n in os.listxattr(p))
            )
            out[rel] = (kind, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, mtime, extra, xattrs)
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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    import socket
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


class MotoServer:
    """moto's standalone S3 server on loopback: a real HTTP S3 endpoint, in memory."""

    def __init__(self, workdir: Path) -> None:
        import sys

        self.port = free_port()
        binary = Path(sys.executable).parent / "moto_server"
        self.log = open(workdir / "moto.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, self.proc)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class SSHServer:
    """A real OpenSSH sshd on loopback with its own host key, client key and config."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir
        self.port = free_port()
        for name in ("hostkey", "client"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(workdir / name)],
                check=True,
            )
        (workdir / "authorized_keys").write_text((workdir / "client.pub").read_text())
        host_pub = (workdir / "hostkey.pub").read_text().split()
        self.known_hosts = workdir / "known_hosts"
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        self.key = workdir / "client"
        self.config = workdir / "sshd_config"
        self.config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {workdir}/hostkey\n"
            f"PidFile {workdir}/sshd.pid\nAuthorizedKeysFile {workdir}/authorized_keys\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
            "Subsystem sftp internal-sftp\n"
        )
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege-separation dir
        self.proc: subprocess.Popen | None = None
        self.start()
        self.env = {
            "EYESHOTS_BACKUP_SFTP_KEY": str(self.key),
            "EYESHOTS_BACKUP_SFTP_KNOWN_HOSTS": str(self.known_hosts),
        }
        self.user = os.environ.get("USER") or "root"

    def start(self) -> None:
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        self.log = open(self.dir / "sshd.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(self.config)], stdout=self.log, stderr=subprocess.STDOUT
        )
        wait_for_port(self.port, self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None
            self.log.close()

    def restic_options(self) -> list[str]:
        command = (
            f"ssh -i {self.key} -p {self.port} -o UserKnownHostsFile={self.known_hosts} "
            f"-o StrictHostKeyChecking=yes -o BatchMode=yes root@127.0.0.1 -s sftp"
        )
        return ["-o", f"sftp.command={command}"]


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory):
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory):
    server = SSHServer(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.fixture
def remote_repo(request, tmp_path):
    """(our repository, restic pointed at the same place) on S3 or SFTP."""
    from backup.backends.url import open_backend

    kind = request.param
    if kind == "s3":
        server = request.getfixturevalue("moto_server")
        bucket = f"b{os.urandom(4).hex()}"
        ours = f"s3:{server.endpoint}/{bucket}/repo"
        restic = Restic(ours, env=server.env)
    else:
        server = request.getfixturevalue("ssh_server")
        path = tmp_path / "sftp-repo"
        ours = f"sftp://root@127.0.0.1:{server.port}{path}"
        restic = Restic(f"sftp:root@127.0.0.1:{path}")
        restic.extra = server.restic_options()
    backend = open_backend(ours, env=server.env)
    repo = Repository.init(backend, PASSWORD.encode(), FAST_KDF)
    yield repo, restic, ours, server
    backend.close()


@pytest.fixture
def fast_kdf() -> KDFParams:
    return FAST_KDF


@pytest.fixture
def env(local_repo, tmp_path, password) -> dict[str, str]:
    """The environment that points `eyeshots backup` at the test repository."""
    _, restic = local_repo
    pw = tmp_path / "password"
    pw.write_text(password + "\n")
    return {"EYESHOTS_BACKUP_REPOSITORY": restic.repo, "EYESHOTS_BACKUP_PASSWORD_FILE": str(pw)}


def _invoke(env: dict, *args: str, code: int = 0):
    from click.testing import CliRunner

    from backup.cli import cli

    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def invoke():
    """Run `eyeshots backup ARGS` in-process; asserts the exit code (0 unless code=)."""
    return _invoke
