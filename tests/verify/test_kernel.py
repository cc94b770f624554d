"""roles/kernel: sysctls persisted and applied, modules blocked, no core dumps."""

from __future__ import annotations

from tests.verify import expected


def test_sysctls_persisted(host, v):
    persisted = host.file("/etc/sysctl.d/90-eyeshots.conf")
    assert persisted.user == "root" and persisted.mode == 0o644
    for key, value in expected.sysctls(v).items():
        assert f"{key} = {value}" in persisted.content_string, key


def test_sysctls_applied_where_the_kernel_lets_them(host, v):
    """A container cannot set every key (read-only or absent in its namespace): those are
    reported; every writable key holds its value."""
    unsettable = []
    for key, value in expected.sysctls(v).items():
        path = "/proc/sys/" + key.replace(".", "/")
        state = host.run(
            f"if [ -e {path} ]; then [ -w {path} ] && echo rw || echo ro; cat {path}; "
            "else echo absent; fi"
        ).stdout.split()
        if state[0] == "rw":
            assert state[1:] == str(value).split(), key
        elif state[0] == "absent" or state[1:] != str(value).split():
            unsettable.append(key)
    print(f"sysctl keys this host cannot set: {sorted(unsettable)}")
    assert "net.ipv4.tcp_syncookies" not in unsettable


def test_uncommon_modules_cannot_load(host, v):
    disabled = host.file("/etc/modprobe.d/eyeshots-disabled.conf").content_string
    for module in v["kernel_disabled_modules"]:
        assert f"install {module} /bin/false" in disabled


def test_no_core_dumps(host, v):
    if not v["kernel_disable_core_dumps"]:
        return
    assert "Storage=none" in host.check_output("systemd-analyze cat-config systemd/coredump.conf")
    admin = v["admin_user"]
    assert host.check_output(f"su -l {admin} -s /bin/bash -c 'ulimit -Hc'").strip() == "0"
