"""roles/ssh with pyinfra: key-only sshd with modern algorithms, validated before reload."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.server import Users
from pyinfra.facts.systemd import SystemdEnabled
from pyinfra.operations import server, systemd
from pyinfra.operations.util import any_changed

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.facts.ssh import OpenSSH
from provision.engines.pyinfra.files import managed
from provision.engines.pyinfra.operations import service, sshd


@deploy("ssh")
def apply() -> None:
    v = variables()
    openssh = host.get_fact(OpenSSH)
    facts = {
        "ssh_openssh_version": openssh["version"],
        "ssh_supported_kex": openssh.get("kex", []),
        "ssh_supported_ciphers": openssh.get("cipher", []),
        "ssh_supported_macs": openssh.get("mac", []),
        "ssh_supported_key_algorithms": openssh.get("key-sig", []),
    }
    keys = [
        sshd.host_key(name="Ed25519 host key", kind="ed25519"),
        sshd.host_key(
            name=f"RSA host key of {v['ssh_rsa_min_bits']}+ bits",
            kind="rsa",
            bits=v["ssh_rsa_min_bits"],
        ),
        sshd.host_key(name="No ECDSA host key", kind="ecdsa", present=False),
    ]
    moduli = sshd.moduli(
        name="Strong Diffie-Hellman moduli only", min_bits=v["ssh_moduli_min_bits"]
    )
    _allowed_groups(v)
    managed("ssh", v, facts)
    _listen_through_service()
    service.notify(
        name="sshd must reload for new keys or moduli",
        service="ssh",
        _if=any_changed(moduli, *keys),
    )
    # A reload keeps every open session, including the one this deploy runs over.
    service.pending(name="Reload sshd", service="ssh")


def _allowed_groups(v: dict) -> None:
    """With AllowGroups set, the admin user must be in them or the next login is refused."""
    admin = v["admin_user"]
    member_of = (host.get_fact(Users).get(admin) or {}).get("groups", [])
    for group in v["ssh_allow_groups"]:
        server.group(name=f"Group {group} may log in over SSH", group=group)
        if group not in member_of:
            server.shell(name=f"Add {admin} to {group}", commands=[f"gpasswd -a {admin} {group}"])


def _listen_through_service() -> None:
    """Socket-activated sshd (Ubuntu >= 22.10) ignores Port/ListenAddress: run the service."""
    enabled = host.get_fact(SystemdEnabled)
    if enabled.get("ssh.socket"):
        systemd.service(
            name="Stop socket activation of sshd",
            service="ssh.socket",
            running=False,
            enabled=False,
        )
    systemd.service(name="Run sshd as a service", service="ssh", running=True, enabled=True)
