"""The operator's remote layer (provision/remote.py, on Fabric) against a real OpenSSH sshd on
loopback: one connection per host for a whole command, commands/input/upload/streaming over it,
host keys verified and never added, and many hosts at once with a result or a one-line failure
for each."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from integration.backup.conftest import SSHServer

from provision.errors import OperatorError
from provision.remote import Remote, on_each
from provision.runner import Target


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = SSHServer(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


def target(sshd: SSHServer, name: str = "one", known_hosts: Path | None = None) -> Target:
    return Target(
        name, "127.0.0.1", sshd.port, sshd.user, sshd.key, known_hosts or sshd.known_hosts, {}
    )


def logins(sshd: SSHServer) -> int:
    return len(re.findall(r"Accepted publickey", (sshd.dir / "sshd.log").read_text()))


def test_one_connection_carries_every_step_of_a_command(sshd, tmp_path, capfd):
    before = logins(sshd)
    payload = tmp_path / "payload.txt"
    payload.write_text("shipped\n")
    with Remote(target(sshd)) as remote:
        assert remote.run("echo $((6 * 7))").stdout == "42\n"
        assert remote.run("cat", input="from stdin\n").stdout == "from stdin\n"
        remote.upload([payload], str(tmp_path / "landed"))
        assert (tmp_path / "landed" / "payload.txt").read_text() == "shipped\n"
        assert remote.stream("echo live; exit 3") == 3
        with pytest.raises(OperatorError, match=r"^one: listing failed: no such thing$"):
            remote.run("echo no such thing >&2; exit 1", what="listing")
    assert "live" in capfd.readouterr().out
    assert logins(sshd) == before + 1


def test_an_unknown_host_key_is_refused_and_never_added(sshd, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(OperatorError) as refused:
        Remote(target(sshd, known_hosts=empty)).run("true")
    assert str(refused.value).startswith(f"one (127.0.0.1:{sshd.port}): its host key is not in")
    assert empty.read_text() == ""


def test_a_changed_host_key_is_refused(sshd, tmp_path):
    other = tmp_path / "other"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, key = (tmp_path / "other.pub").read_text().split()[:2]
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sshd.port} {kind} {key}\n")
    with pytest.raises(OperatorError, match="its host key differs from the one in"):
        Remote(target(sshd, known_hosts=wrong)).run("true")


def test_many_hosts_at_once_each_with_its_result_or_failure(sshd, tmp_path, capsys):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    hosts = [target(sshd, "a"), target(sshd, "b", known_hosts=empty), target(sshd, "c")]
    outcome = on_each(hosts, lambda remote: remote.run("echo up").stdout.strip())
    assert outcome.results == {"a": "up", "c": "up"}
    assert list(outcome.failures) == ["b"]
    with pytest.raises(OperatorError, match=r"^failed on 1 host\(s\): b$") as failed:
        outcome.raise_for_failures()
    assert failed.value.exit_code == 1
    assert capsys.readouterr().err.startswith("eyeshots: error: b (127.0.0.1:")
