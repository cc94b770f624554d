"""Kernel parameters as the host sees them: current value and whether it can be changed here."""

from __future__ import annotations

import shlex

from pyinfra.api import FactBase


class KernelParameters(FactBase[dict[str, dict]]):
    """``{key: {"value": "1", "writable": True}}``; ``value`` is None for a key this kernel
    does not have. Inside a container most of /proc/sys is mounted read-only."""

    def command(self, keys: list[str]) -> str:
        names = " ".join(shlex.quote(k) for k in keys)
        return (
            f'for k in {names}; do p=/proc/sys/$(echo "$k" | tr . /); '
            'if [ -e "$p" ]; then w=0; [ -w "$p" ] && w=1; '
            'printf \'%s\\t%s\\t%s\\n\' "$k" "$w" "$(tr -s \'\\t \' \'  \' < "$p")"; '
            "else printf '%s\\t-\\t\\n' \"$k\"; fi; done"
        )

    def process(self, output: list[str]) -> dict[str, dict]:
        found = {}
        for line in output:
            key, writable, value = (line.split("\t") + ["", ""])[:3]
            found[key] = {
                "value": None if writable == "-" else value.strip(),
                "writable": writable == "1",
            }
        return found
