"""A host's managed state as data, and the difference between two hosts.

What two hosts provisioned from the same inventory must share: every file under the managed
trees (sha256, owner, group, mode; directories and symlinks too), enabled and active units,
UFW rules, the applied values of the managed sysctls and the listening sockets. What is
host-specific by nature is left out, each for a reason given in HOST_SPECIFIC.

    python -m tests.verify.snapshot take -i INVENTORY HOST [-o FILE]
    python -m tests.verify.snapshot diff A.json B.json
    python -m tests.verify.snapshot compare -i INVENTORY HOST_A HOST_B

`diff` and `compare` print one line per difference and exit 1 when there is any.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import testinfra

from provision.errors import OperatorError
from tests.verify import expected, targets

MANAGED_TREES = ("/etc", "/opt/eyeshots", "/srv/eyeshots", "/var/lib/eyeshots", "/usr/local")

# Paths (fnmatch patterns, matched against the whole path) that differ between two correctly
# provisioned hosts, with why. Everything else under MANAGED_TREES must be identical.
HOST_SPECIFIC: dict[str, str] = {
    "/etc/ssh/ssh_host_*": "host keys, generated on each host at first boot",
    "/etc/machine-id": "the machine's identity",
    "/etc/hostname": "names the host (base_hostname = inventory_hostname)",
    "/etc/hosts": "names the host (127.0.1.1 <hostname>)",
    "/etc/mailname": "names the host",
    "/etc/eyeshots/secrets.env": "secrets generated on the host at first provision",
    "/etc/eyeshots/backup-password": "the backup password, generated on the host likewise",
    "/etc/ssl/eyeshots/selfsigned/*": "certificate and key generated on the host",
    "/etc/letsencrypt/*": "certificates and account keys issued to the host",
    "/etc/ssl/private/ssl-cert-snakeoil.key": "Debian's per-host self-signed key (ssl-cert)",
    "/etc/ssl/certs/ssl-cert-snakeoil.pem": "Debian's per-host self-signed certificate",
    "/etc/ssl/certs/????????.?": "hash link to the snakeoil certificate or a CA (by name)",
    "/etc/ld.so.cache": "a cache rebuilt by ldconfig, its layout depends on install order",
    "/etc/shadow": "password change dates (the day each account was created)",
    "/etc/shadow-": "shadow's backup, same reason",
    "/etc/.pwd.lock": "a lock file of the shadow tools",
    "/etc/ufw/*.rules.*": "UFW's timestamped backups of its rule files",
    "/etc/fail2ban/fail2ban.sqlite3*": "fail2ban's ban database",
    "/var/lib/eyeshots/*": "the platform's data (database), not configuration",
    "/srv/eyeshots/files/*": "uploaded files, not configuration",
    "/usr/local/**/__pycache__": "bytecode caches",
}

# Runs on the host with its python3: one JSON object {path: [kind, owner, group, mode, detail]}.
_FILES_SCRIPT = r"""
import fnmatch, grp, hashlib, json, os, pwd, stat, sys
trees, patterns = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def name(table, ident):
    try:
        return table(ident)[0]
    except KeyError:
        return str(ident)
def skipped(path):
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, p + "/*") for p in patterns)
found = {}
for tree in trees:
    for top, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if not skipped(os.path.join(top, d))]
        for entry in [top] + [os.path.join(top, f) for f in files] + [
                os.path.join(top, d) for d in dirs if os.path.islink(os.path.join(top, d))]:
            if entry in found or skipped(entry):
                continue
            st = os.lstat(entry)
            if stat.S_ISLNK(st.st_mode):
                kind, detail = "link", os.readlink(entry)
            elif stat.S_ISDIR(st.st_mode):
                kind, detail = "dir", ""
            elif stat.S_ISREG(st.st_mode):
                digest = hashlib.sha256()
                with open(entry, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        digest.update(chunk)
                kind, detail = "file", digest.hexdigest()
            else:
                kind, detail = "other", ""
            found[entry] = [kind, name(pwd.getpwuid, st.st_uid), name(grp.getgrgid, st.st_gid),
                            "%04o" % stat.S_IMODE(st.st_mode), detail]
print(json.dumps(found, sort_keys=True))
"""


def take(host: Any, variables: dict[str, Any], address: str) -> dict[str, Any]:
    """The state of one host (a testinfra host running commands as root)."""
    files = json.loads(
        host.check_output(
            "python3 -c %s %s %s",
            _FILES_SCRIPT,
            json.dumps(MANAGED_TREES),
            json.dumps(sorted(HOST_SPECIFIC)),
        )
    )
    return {
        "files": {path: " ".join(fields) for path, fields in files.items()},
        "units": _units(host),
        "ufw": _ufw(host),
        "sysctl": _sysctls(host, variables),
        "sockets": _sockets(host, address),
    }


def _units(host: Any) -> dict[str, str]:
    enabled = host.check_output(
        "systemctl list-unit-files --no-legend --no-pager --state=enabled,static,masked"
    )
    states = {line.split()[0]: line.split()[1] for line in enabled.splitlines() if line.strip()}
    active = host.check_output(
        "systemctl list-units --no-legend --no-pager --plain --state=active "
        "--type=service,socket,timer,path,mount,target"
    )
    timers = {u.removesuffix(".timer") for u in states if u.endswith(".timer")}
    for line in active.splitlines():
        unit = line.split()[0]
        # Login sessions of whoever connects; timer-started jobs run at random times (their
        # timers are compared instead); mounts of the container runtime.
        if unit.startswith(("user@", "user-runtime-dir@", "run-", "session-")):
            continue
        if unit.endswith(".service") and unit.removesuffix(".service") in timers:
            continue
        states[unit] = f"{states.get(unit, 'unlisted')} active"
    return dict(sorted(states.items()))


def _ufw(host: Any) -> dict[str, str]:
    added = host.check_output("ufw show added")
    status = host.check_output("ufw status verbose")
    return {
        "added": "\n".join(line for line in added.splitlines() if line.startswith("ufw ")),
        "status": status.strip(),
    }


def _sysctls(host: Any, variables: dict[str, Any]) -> dict[str, str]:
    keys = sorted(expected.sysctls(variables))
    paths = " ".join("/proc/sys/" + key.replace(".", "/") for key in keys)
    values = host.check_output(
        f"for p in {paths}; do if [ -e $p ]; then echo $(cat $p); else echo absent; fi; done"
    ).splitlines()
    return dict(zip(keys, values, strict=True))


def _sockets(host: Any, address: str) -> list[str]:
    """Listening sockets as 'proto address:port program', the host's own address generalised."""
    found = set()
    for line in host.check_output("ss -Htlnup").splitlines():
        fields = line.split()
        program = fields[6].split('"')[1] if len(fields) > 6 and '"' in fields[6] else "?"
        local = fields[4].replace(address, "<host>")
        found.add(f"{fields[0]} {local} {program}")
    return sorted(found)


def diff(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str] = ("a", "b")) -> list[str]:
    """One line per difference between two snapshots."""
    lines = []
    for section in sorted(set(a) | set(b)):
        left, right = a.get(section), b.get(section)
        if isinstance(left, list) or isinstance(right, list):
            left, right = dict.fromkeys(left or [], ""), dict.fromkeys(right or [], "")
        left, right = left or {}, right or {}
        for key in sorted(set(left) | set(right)):
            if key not in right:
                lines.append(f"{section}: {key}: only on {names[0]} ({left[key]})".rstrip())
            elif key not in left:
                lines.append(f"{section}: {key}: only on {names[1]} ({right[key]})".rstrip())
            elif left[key] != right[key]:
                lines.append(
                    f"{section}: {key}: {names[0]} {left[key]!r} != {names[1]} {right[key]!r}"
                )
    return lines


def snapshot_hosts(inventory: str, names: list[str]) -> dict[str, dict[str, Any]]:
    """Snapshots of inventory hosts, taken over the suite's verified SSH connections."""
    found = {t.name: t for t in targets.resolve(inventory)}
    missing = [name for name in names if name not in found]
    if missing:
        raise OperatorError(f"no host {', '.join(missing)} in {inventory}/hosts.yml")
    chosen = [found[name] for name in names]
    with tempfile.TemporaryDirectory(prefix="eyeshots-snapshot-") as directory:
        config = targets.ssh_config(chosen, Path(directory))
        result = {}
        for target in chosen:
            host = testinfra.get_host(
                targets.hostspec(target), ssh_config=str(config), sudo=target.user != "root"
            )
            result[target.name] = take(host, target.variables, target.address)
        targets.close(chosen, config)
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.verify.snapshot",
        description="Snapshot a host's managed state, or compare two hosts' snapshots.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    take_command = commands.add_parser("take", help="snapshot one inventory host as JSON")
    take_command.add_argument("-i", "--inventory", required=True)
    take_command.add_argument("host")
    take_command.add_argument("-o", "--output", help="write here instead of stdout")
    diff_command = commands.add_parser("diff", help="compare two snapshot files")
    diff_command.add_argument("a")
    diff_command.add_argument("b")
    compare = commands.add_parser("compare", help="snapshot two inventory hosts and compare")
    compare.add_argument("-i", "--inventory", required=True)
    compare.add_argument("a")
    compare.add_argument("b")
    args = parser.parse_args(argv)
    try:
        if args.command == "take":
            state = snapshot_hosts(args.inventory, [args.host])[args.host]
            text = json.dumps(state, indent=1, sort_keys=True)
            if args.output:
                Path(args.output).write_text(text + "\n")
            else:
                print(text)
            return 0
        if args.command == "diff":
            loaded = [_load(path) for path in (args.a, args.b)]
            lines = diff(*loaded, names=(args.a, args.b))
        else:
            states = snapshot_hosts(args.inventory, [args.a, args.b])
            lines = diff(states[args.a], states[args.b], names=(args.a, args.b))
    except OperatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    print(f"{len(lines)} differences", file=sys.stderr)
    return 1 if lines else 0


def _load(path: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise OperatorError(f"{path}: not a snapshot file ({error})") from None


if __name__ == "__main__":
    sys.exit(main())
