"""The platform's services: units installed and sandboxed, the right ones running, sockets on
the addresses they should use and no other, the site answering through nginx."""

from __future__ import annotations

import re

import pytest

from tests.verify import expected


@pytest.fixture(scope="module")
def live_version(host, v) -> str | None:
    """The deployed release (None on a host provisioned but not deployed yet)."""
    current = host.file(v["app_current_dir"])
    return current.linked_to.rsplit("/", 1)[-1] if current.is_symlink else None


def instance(unit: str, version: str | None) -> str:
    # a template's instance is named after the release; any name scores the same when none runs
    return unit.replace("@.", f"@{version or 'verify'}.")


def test_platform_units_installed(host, v):
    for unit in expected.platform_units(v):
        path = host.file(f"/etc/systemd/system/{unit}")
        assert path.is_file and path.user == "root" and path.mode & 0o022 == 0, unit


def test_every_platform_service_is_sandboxed(host, v, live_version):
    scores = {}
    for unit in expected.platform_units(v):
        if not unit.endswith(".service"):
            continue
        name = instance(unit, live_version)
        out = host.check_output("systemd-analyze security --no-pager %s", name)
        found = re.search(rf"Overall exposure level for {re.escape(name)}: (\d+\.\d+)", out)
        assert found, out
        scores[name] = float(found.group(1))
    print("exposure: " + ", ".join(f"{unit} {score}" for unit, score in scores.items()))
    assert all(score <= expected.MAX_EXPOSURE for score in scores.values()), scores


def test_host_services_running(host, v):
    services = ["ssh", "fail2ban", "prometheus", "prometheus-alertmanager"]
    if v["nginx_enabled"]:
        services.append("nginx")
    for name in services:
        service = host.service(name)
        assert service.is_running and service.is_enabled, name


def test_release_services_running(host, v, live_version):
    if live_version is None:
        assert host.service("eyeshots-exporter").is_running is False
        return
    for unit in expected.platform_units(v):
        name = instance(unit, live_version)
        if unit.endswith(".timer") or unit.startswith(("eyeshots-app@", "eyeshots-files@")):
            assert host.service(name).is_enabled, name
        if unit.startswith(("eyeshots-app@", "eyeshots-files@", "eyeshots-exporter")):
            assert host.service(name).is_running, name


def _listeners(host) -> list[tuple[str, int]]:
    found = []
    for line in host.check_output("ss -Htlnu").splitlines():
        local = line.split()[4]
        address, _, port = local.rpartition(":")
        found.append((address.strip("[]").split("%")[0], int(port)))
    return found


def _is_loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


def test_only_public_services_listen_beyond_loopback(host, v):
    public = {port for address, port in _listeners(host) if not _is_loopback(address)}
    # systemd-resolved/timesyncd and DHCP clients listen on ephemeral or link ports: none here
    assert public <= expected.public_ports(v), sorted(public)


def test_internal_services_listen_on_their_loopback_address(host, v, live_version):
    listening = set(_listeners(host))
    for service, listen in expected.loopback_listeners(v).items():
        address, _, port = listen.rpartition(":")
        if service == "exporter" and live_version is None:
            continue  # the exporter runs from the release
        assert _is_loopback(address), f"{service} is configured on {listen}"
        assert (address, int(port)) in listening, f"{service} does not listen on {listen}"


def test_site_answers_through_nginx(host, v, live_version):
    if not v["nginx_enabled"]:
        pytest.skip("nginx_enabled is false for this host")
    if live_version is None:
        page = host.check_output("curl -sf http://%s/", v["nginx_placeholder_listen"])
        assert "not deployed yet" in page
        return
    ready = host.run("curl -sf http://%s/readyz", v["nginx_local_listen"])
    assert (ready.rc, ready.stdout.strip()) == (0, "ready"), ready.stderr
