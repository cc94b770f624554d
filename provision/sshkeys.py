"""The operator's SSH key pair: theirs if they have one, otherwise one generated for eyeshots."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from provision.errors import OperatorError
from provision.paths import config_dir
from provision.shell import run

# ECDSA keys are left out on purpose: the hardened sshd refuses them.
_OPERATOR_KEYS = ("id_ed25519", "id_rsa")


@dataclass(frozen=True)
class KeyPair:
    private: Path

    @property
    def public(self) -> Path:
        return self.private.with_name(self.private.name + ".pub")

    def public_text(self) -> str:
        return self.public.read_text().strip()


def operator_key() -> KeyPair:
    """EYESHOTS_SSH_KEY, else ~/.ssh/id_ed25519 or id_rsa, else a generated project key."""
    explicit = os.environ.get("EYESHOTS_SSH_KEY")
    if explicit:
        pair = KeyPair(Path(explicit).expanduser())
        if not pair.private.is_file() or not pair.public.is_file():
            raise OperatorError(
                f"EYESHOTS_SSH_KEY={explicit}: need both {pair.private} and {pair.public}; "
                "point it at an existing private key whose .pub sits beside it"
            )
        return pair
    for name in _OPERATOR_KEYS:
        pair = KeyPair(Path.home() / ".ssh" / name)
        if pair.private.is_file() and pair.public.is_file():
            return pair
    return _project_key()


def _project_key() -> KeyPair:
    pair = KeyPair(config_dir() / "ssh" / "id_ed25519")
    if pair.private.is_file() and pair.public.is_file():
        return pair
    pair.private.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pair.private.unlink(missing_ok=True)
    pair.public.unlink(missing_ok=True)
    run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "eyeshots-operator",
         "-f", str(pair.private)],
        what="generating the operator's SSH key",
    )  # fmt: skip
    return pair
