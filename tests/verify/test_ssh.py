"""roles/ssh: sshd's effective configuration (`sshd -T`), host keys and moduli."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def sshd(host, v) -> dict[str, str]:
    output = host.check_output(
        f"/usr/sbin/sshd -T -C user={v['admin_user']},host=verify,addr=127.0.0.1"
    )
    effective: dict[str, str] = {}
    for line in output.splitlines():
        key, _, value = line.partition(" ")
        effective.setdefault(key, value)
    return effective


def test_authentication_is_key_only_and_never_root(sshd):
    assert sshd["permitrootlogin"] == "no"
    assert sshd["passwordauthentication"] == "no"
    assert sshd["kbdinteractiveauthentication"] == "no"
    assert sshd["permitemptypasswords"] == "no"
    assert sshd["authenticationmethods"] == "publickey"


def test_limits_and_forwarding_follow_the_variables(sshd, v):
    assert sshd["port"] == str(v["ssh_port"])
    assert sshd["maxauthtries"] == str(v["ssh_max_auth_tries"])
    assert sshd["maxsessions"] == str(v["ssh_max_sessions"])
    assert sshd["maxstartups"] == str(v["ssh_max_startups"])
    assert sshd["logingracetime"] == str(v["ssh_login_grace_time"])
    assert sshd["clientaliveinterval"] == str(v["ssh_client_alive_interval"])
    assert sshd["clientalivecountmax"] == str(v["ssh_client_alive_count_max"])
    assert sshd["loglevel"] == v["ssh_log_level"]
    yes_no = {True: "yes", False: "no"}
    assert sshd["allowtcpforwarding"] == yes_no[v["ssh_allow_tcp_forwarding"]]
    assert sshd["allowagentforwarding"] == yes_no[v["ssh_allow_agent_forwarding"]]
    assert sshd["x11forwarding"] == "no" and sshd["permittunnel"] == "no"


def test_algorithms_are_the_configured_ones_post_quantum_first(sshd, v):
    kex = sshd["kexalgorithms"].split(",")
    assert set(kex) <= set(v["ssh_kex_algorithms"]), kex
    assert kex[0].startswith(("mlkem768x25519", "sntrup761x25519")), "post-quantum hybrid first"
    assert set(sshd["ciphers"].split(",")) <= set(v["ssh_ciphers"])
    macs = sshd["macs"].split(",")
    assert set(macs) <= set(v["ssh_macs"]) and all(m.endswith("-etm@openssh.com") for m in macs)
    assert set(sshd["hostkeyalgorithms"].split(",")) <= set(v["ssh_host_key_algorithms"])
    assert set(sshd["pubkeyacceptedalgorithms"].split(",")) <= set(
        v["ssh_pubkey_accepted_algorithms"]
    )
    assert sshd["requiredrsasize"] == str(v["ssh_rsa_min_bits"])


def test_host_keys_are_ed25519_and_large_rsa(host, v):
    keys = host.check_output("for k in /etc/ssh/ssh_host_*_key.pub; do ssh-keygen -lf $k; done")
    kinds = {line.split()[-1] for line in keys.splitlines()}
    assert kinds == {"(ED25519)", "(RSA)"}
    rsa_bits = [int(line.split()[0]) for line in keys.splitlines() if line.endswith("(RSA)")]
    assert rsa_bits and min(rsa_bits) >= v["ssh_rsa_min_bits"]
    for private in ("/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_rsa_key"):
        key = host.file(private)
        assert key.user == "root" and key.mode == 0o600


def test_small_moduli_are_gone(host, v):
    smallest = host.check_output("awk '$1 !~ /^#/ {print $5}' /etc/ssh/moduli | sort -n | head -1")
    # moduli lists size - 1 (a 3072-bit group shows as 3071)
    assert int(smallest) >= v["ssh_moduli_min_bits"] - 1


def test_sshd_config_is_valid_and_service_running(host):
    assert host.run("/usr/sbin/sshd -t").rc == 0
    config = host.file("/etc/ssh/sshd_config")
    assert config.user == "root" and config.mode & 0o022 == 0
    assert host.service("ssh").is_running
