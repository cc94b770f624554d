"""What the host's OpenSSH supports and how its host keys look."""

from __future__ import annotations

import re
from typing import Any

from pyinfra.api import FactBase


class OpenSSH(FactBase[dict[str, Any]]):
    """Supported algorithms (``ssh -Q``) and the OpenSSH version as ``[major, minor]``."""

    def command(self) -> str:
        return 'ssh -V 2>&1; for q in kex cipher mac key-sig; do echo "--- $q"; ssh -Q $q; done'

    def process(self, output: list[str]) -> dict[str, Any]:
        match = re.search(r"OpenSSH_(\d+)\.(\d+)", output[0] if output else "")
        found: dict[str, Any] = {"version": [int(match[1]), int(match[2])] if match else [0, 0]}
        section = None
        for line in output[1:]:
            if line.startswith("--- "):
                section = line[4:]
                found[section] = []
            elif section:
                found[section].append(line.strip())
        return found


class SshHostKeys(FactBase[dict[str, int]]):
    """Host key type -> bits, for every /etc/ssh/ssh_host_*_key.pub."""

    def command(self) -> str:
        return 'for k in /etc/ssh/ssh_host_*_key.pub; do [ -f "$k" ] && ssh-keygen -lf "$k"; done; true'

    def process(self, output: list[str]) -> dict[str, int]:
        keys = {}
        for line in output:
            parts = line.split()
            if len(parts) >= 2 and parts[-1].startswith("("):
                keys[parts[-1].strip("()").lower()] = int(parts[0])
        return keys


class WeakModuli(FactBase[int]):
    """How many Diffie-Hellman group-exchange primes in /etc/ssh/moduli are shorter than bits."""

    def command(self, bits: int) -> str:
        # The file's size column is the prime's bit length minus one.
        return f"awk '$1 !~ /^#/ && $5 < {bits - 1}' /etc/ssh/moduli 2>/dev/null | wc -l"

    def process(self, output: list[str]) -> int:
        return int(output[0]) if output else 0
