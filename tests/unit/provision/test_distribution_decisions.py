"""What differs between Debian 12/13 and Ubuntu 22.04/24.04 is decided from facts about the host
(what its OpenSSH supports, which units are enabled, its release), never from its name. These
tests pin each decision; the Debian side also runs for real on sandboxes (tests/hosts)."""

from __future__ import annotations

import subprocess

import pytest

from provision.engines.pyinfra.facts.ssh import OpenSSH
from provision.engines.pyinfra.roles import nginx, ssh
from provision.errors import OperatorError
from provision.hostvars import defaults
from provision.sandbox.image import (
    DEBIAN_MIRROR,
    UBUNTU_MIRROR,
    check_suite,
    default_mirror,
    sources_list,
)
from provision.templates import render


@pytest.mark.parametrize(
    ("suite", "expected"),
    [
        ("noble", "deb http://archive.ubuntu.com/ubuntu noble-security main universe"),
        ("jammy", "deb http://archive.ubuntu.com/ubuntu jammy-updates main universe"),
        ("trixie", "deb http://deb.debian.org/debian-security trixie-security main"),
        ("bookworm", "deb http://deb.debian.org/debian bookworm-updates main"),
    ],
)
def test_image_sources_come_from_the_suites_archive(suite, expected):
    mirror = default_mirror(suite)
    assert mirror == (UBUNTU_MIRROR if suite in ("noble", "jammy") else DEBIAN_MIRROR)
    assert expected in sources_list(suite, mirror).splitlines()


def test_an_unknown_suite_is_refused_with_the_known_ones():
    with pytest.raises(OperatorError, match="unknown suite 'buster': use one of bookworm, trixie"):
        check_suite("buster")


@pytest.mark.parametrize(
    ("name", "major", "expected"),
    [("Debian", 12, False), ("Debian", 13, True), ("Ubuntu", 24, False), ("Ubuntu", 25, True)],
)
def test_http2_directive_follows_the_release(name, major, expected):
    assert nginx.http2_directive({"name": name, "major": major}) is expected
    assert nginx.http2_directive({"name": None, "major": None}) is False


def _sshd_config(openssh: dict) -> str:
    return render(
        "ssh",
        "sshd_config.j2",
        {
            **defaults(name="vps1").variables,
            "ssh_openssh_version": openssh["version"],
            "ssh_supported_kex": openssh["kex"],
            "ssh_supported_ciphers": openssh["cipher"],
            "ssh_supported_macs": openssh["mac"],
            "ssh_supported_key_algorithms": openssh["key-sig"],
        },
    )


def _kex_line(config: str) -> list[str]:
    line = next(x for x in config.splitlines() if x.startswith("KexAlgorithms "))
    return line.split(" ", 1)[1].split(",")


def test_key_exchange_is_cut_to_what_this_openssh_supports():
    # The OpenSSH fact gathered from this machine's real client, as pyinfra gathers it on a host.
    output = subprocess.run(
        ["sh", "-c", OpenSSH().command()], capture_output=True, text=True, check=True
    ).stdout
    openssh = OpenSSH().process(output.splitlines())
    kex = _kex_line(_sshd_config(openssh))
    assert kex and set(kex) <= set(openssh["kex"])
    expected_first = (
        "mlkem768x25519-sha256"
        if "mlkem768x25519-sha256" in openssh["kex"]
        else "sntrup761x25519-sha512@openssh.com"
    )
    assert kex[0] in (expected_first, "sntrup761x25519-sha512")


def test_an_openssh_with_ml_kem_gets_it_first_and_one_without_never_sees_it():
    common = ["curve25519-sha256", "curve25519-sha256@libssh.org", "diffie-hellman-group16-sha512"]
    base = {"cipher": ["aes256-ctr"], "mac": ["hmac-sha2-256-etm@openssh.com"]}
    base["key-sig"] = ["ssh-ed25519", "rsa-sha2-512"]
    openssh_10 = {
        **base,
        "version": [10, 0],
        "kex": ["mlkem768x25519-sha256", "sntrup761x25519-sha512", *common],
    }
    openssh_9_2 = {
        **base,
        "version": [9, 2],
        "kex": ["sntrup761x25519-sha512@openssh.com", *common],
    }
    assert _kex_line(_sshd_config(openssh_10))[:2] == [
        "mlkem768x25519-sha256",
        "sntrup761x25519-sha512",
    ]
    older = _kex_line(_sshd_config(openssh_9_2))
    assert older[0] == "sntrup761x25519-sha512@openssh.com"
    assert "mlkem768x25519-sha256" not in older


class _Recorder:
    """Stands in for pyinfra's systemd operations and host facts: Ubuntu's socket-activated sshd
    cannot run here (no Ubuntu archive is reachable to build a noble sandbox)."""

    def __init__(self, enabled: dict[str, bool]) -> None:
        self.enabled = enabled
        self.calls: list[dict] = []

    def get_fact(self, fact, **kwargs):
        return self.enabled

    def service(self, **kwargs) -> None:
        self.calls.append(kwargs)


@pytest.mark.parametrize(
    ("enabled", "stops_socket"),
    [
        ({"ssh.socket": True, "ssh.service": False}, True),  # Ubuntu >= 22.10
        ({"ssh.service": True}, False),  # Debian 12/13, Ubuntu 22.04
        ({"ssh.socket": False, "ssh.service": True}, False),
    ],
)
def test_socket_activated_sshd_is_switched_to_the_service(monkeypatch, enabled, stops_socket):
    recorder = _Recorder(enabled)
    monkeypatch.setattr(ssh, "host", recorder)
    monkeypatch.setattr(ssh.systemd, "service", recorder.service)
    ssh._listen_through_service()
    socket_calls = [c for c in recorder.calls if c["service"] == "ssh.socket"]
    if stops_socket:
        assert socket_calls == [
            {
                "name": "Stop socket activation of sshd",
                "service": "ssh.socket",
                "running": False,
                "enabled": False,
            }
        ]
    else:
        assert socket_calls == []
    assert recorder.calls[-1]["service"] == "ssh"
    assert recorder.calls[-1]["running"] is True and recorder.calls[-1]["enabled"] is True
