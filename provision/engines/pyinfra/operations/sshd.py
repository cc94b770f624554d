"""sshd operations pyinfra lacks: host keys of a minimum strength, strong DH moduli only."""

from __future__ import annotations

from collections.abc import Iterator

from pyinfra import host
from pyinfra.api import operation

from provision.engines.pyinfra.facts.ssh import SshHostKeys, WeakModuli

_KEY_FILE = "/etc/ssh/ssh_host_{kind}_key"


@operation()
def host_key(kind: str, bits: int = 0, present: bool = True) -> Iterator[str]:
    """
    Ensure the ``kind`` (ed25519, rsa, ecdsa) host key exists with at least ``bits``, or is gone.
    A weaker key is replaced: clients will see a new key of that type.
    """
    path = _KEY_FILE.format(kind=kind)
    current = host.get_fact(SshHostKeys).get(kind)
    if not present:
        if current is None:
            host.noop(f"no {kind} host key")
            return
        yield f"rm -f {path} {path}.pub"
        return
    if current is not None and current >= bits:
        host.noop(f"{kind} host key has {current} bits")
        return
    size = f" -b {bits}" if kind == "rsa" else ""
    yield f"rm -f {path} {path}.pub && ssh-keygen -q -t {kind}{size} -N '' -f {path}"


@operation()
def moduli(min_bits: int) -> Iterator[str]:
    """Remove Diffie-Hellman group-exchange primes shorter than ``min_bits`` from /etc/ssh/moduli."""
    weak = host.get_fact(WeakModuli, bits=min_bits)
    if not weak:
        host.noop(f"every modulus has at least {min_bits} bits")
        return
    # The size column is the prime's bit length minus one.
    yield (
        f"awk '$1 ~ /^#/ || $5 >= {min_bits - 1}' /etc/ssh/moduli > /etc/ssh/moduli.eyeshots-new"
        " && mv -f /etc/ssh/moduli.eyeshots-new /etc/ssh/moduli"
    )
