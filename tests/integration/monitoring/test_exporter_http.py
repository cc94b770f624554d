"""The exporter as a process: flags, TLS + basic auth from a web-config file, bad input."""

from __future__ import annotations

import base64
import datetime
import gzip
import http.client
import os
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import bcrypt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def self_signed(directory: Path, stem: str = "server") -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (directory / f"{stem}.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path = directory / f"{stem}.crt"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


def test_tls_and_basic_auth_from_web_config(spawn, port, exporter_argv, tmp_path):
    cert = self_signed(tmp_path)
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=10)).decode().replace("$2b$", "$2y$")
    web = tmp_path / "web.yml"
    web.write_text(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        f"basic_auth_users:\n  prometheus: '{hashed}'\n"
    )
    # the same file node_exporter would take: promtool validates it
    subprocess.run(["promtool", "check", "web-config", str(web)], check=True, capture_output=True)
    listen = port()
    spawn("exporter", [*exporter_argv, f"--web.listen-address=127.0.0.1:{listen}",
                       f"--web.config.file={web}", "--collector.disable-defaults",
                       "--collector.loadavg"])  # fmt: skip
    context = ssl.create_default_context(cafile=str(cert))
    url = f"https://localhost:{listen}/metrics"
    anonymous = urllib.request.Request(url)
    end = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(anonymous, context=context, timeout=2)
        except urllib.error.HTTPError as exc:
            assert exc.code == 401  # up, and refusing us without credentials
            break
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < end, "exporter did not come up"
            time.sleep(0.1)
    wrong = urllib.request.Request(
        url, headers={"Authorization": "Basic " + base64.b64encode(b"prometheus:nope").decode()}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(wrong, context=context, timeout=5)
    assert refused.value.code == 401
    good = urllib.request.Request(
        url, headers={"Authorization": "Basic " + base64.b64encode(b"prometheus:s3cret").decode()}
    )
    for _ in range(2):  # the second request hits the verified-credentials cache
        with urllib.request.urlopen(good, context=context, timeout=5) as response:
            body = response.read().decode()
    assert "node_load1 " in body
    assert "node_cpu_seconds_total" not in body
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"http://127.0.0.1:{listen}/metrics", timeout=5)
    # a client that connects and stays silent does not block the next scrape
    with socket.create_connection(("127.0.0.1", listen)):
        with urllib.request.urlopen(good, context=context, timeout=5) as response:
            assert response.status == 200


def wait_tls(url: str, context: ssl.SSLContext) -> None:
    end = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url, context=context, timeout=2).read()
            return
        except (urllib.error.URLError, ConnectionError):
            assert time.monotonic() < end, "exporter did not come up"
            time.sleep(0.1)


def test_mutual_tls_refuses_clients_without_a_trusted_certificate(
    spawn, port, exporter_argv, tmp_path
):
    server_cert = self_signed(tmp_path)
    client_cert = self_signed(tmp_path, "client")
    web = tmp_path / "web.yml"
    web.write_text(
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
        "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client.crt\n"
    )
    subprocess.run(["promtool", "check", "web-config", str(web)], check=True, capture_output=True)
    listen = port()
    flags = [f"--web.listen-address=127.0.0.1:{listen}", f"--web.config.file={web}"]
    spawn("exporter", [*exporter_argv, *flags, "--collector.disable-defaults", "--collector.stat"])
    url = f"https://localhost:{listen}/metrics"
    trusted = ssl.create_default_context(cafile=str(server_cert))
    trusted.load_cert_chain(client_cert, tmp_path / "client.key")
    wait_tls(url, trusted)
    with urllib.request.urlopen(url, context=trusted, timeout=5) as response:
        assert "node_forks_total" in response.read().decode()
    anonymous = ssl.create_default_context(cafile=str(server_cert))
    with pytest.raises((urllib.error.URLError, ConnectionError, ssl.SSLError)):
        urllib.request.urlopen(url, context=anonymous, timeout=5).read()
    # the refused handshake did not break the server
    with urllib.request.urlopen(url, context=trusted, timeout=5) as response:
        assert response.status == 200


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--web.config.file=/nonexistent/web.yml"], "--web.config.file /nonexistent/web.yml"),
        (["--collector.filesystem.mount-points-exclude=("], "not a valid regular expression"),
        (["--web.listen-address=localhost"], "expected HOST:PORT"),
        (["--collector.filesystem.mount-timeout=soon"], "is not a duration"),
    ],
)
def test_bad_input_is_one_clear_line_and_nonzero(exporter_argv, args, message):
    result = subprocess.run([*exporter_argv, *args], capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_help_lists_collectors_and_no_collector_flags(exporter_argv):
    out = subprocess.run(
        [*exporter_argv, "--help"], capture_output=True, text=True, check=True
    ).stdout
    for name in ("cpu", "diskstats", "filesystem", "loadavg", "meminfo", "netdev", "stat",
                 "textfile", "time", "uname", "tlscert", "systemd"):  # fmt: skip
        assert f"--no-collector.{name}" in out
        assert f"] {name} " in out


def test_disabled_collector_is_absent_and_defaults_listen_on_loopback(
    spawn, port, exporter_argv, get
):
    listen = port()
    flags = [
        f"--web.listen-address=127.0.0.1:{listen}",
        "--no-collector.cpu",
        "--no-collector.filesystem",
    ]
    spawn("exporter", [*exporter_argv, *flags], f"http://127.0.0.1:{listen}/metrics")
    body = get(f"http://127.0.0.1:{listen}/metrics")
    assert "node_cpu_seconds_total" not in body
    assert 'collector="cpu"' not in body
    assert 'node_scrape_collector_success{collector="meminfo"} 1' in body
    assert "process_resident_memory_bytes" in body
    from monitoring.exporter.main import DEFAULT_LISTEN

    assert DEFAULT_LISTEN == "127.0.0.1:9100"


def test_renewed_certificate_and_new_users_apply_without_restart(
    spawn, port, exporter_argv, tmp_path
):
    old_cert = self_signed(tmp_path)
    web = tmp_path / "web.yml"
    web.write_text("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n")
    listen = port()
    flags = [f"--web.listen-address=127.0.0.1:{listen}", f"--web.config.file={web}"]
    spawn("exporter", [*exporter_argv, *flags, "--collector.disable-defaults", "--collector.stat"])
    url = f"https://localhost:{listen}/metrics"
    trusts_old = ssl.create_default_context(cafile=str(old_cert))
    wait_tls(url, trusts_old)

    renewed = tmp_path / "renewed"
    renewed.mkdir()
    new_cert = self_signed(renewed)
    # certbot-style renewal: new files in place, nothing restarted
    os.replace(renewed / "server.key", tmp_path / "server.key")
    os.replace(new_cert, tmp_path / "server.crt")
    hashed = bcrypt.hashpw(b"pw", bcrypt.gensalt(rounds=4)).decode()
    web.write_text(web.read_text() + f"basic_auth_users:\n  scraper: '{hashed}'\n")

    trusts_new = ssl.create_default_context(cafile=str(tmp_path / "server.crt"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, context=trusts_new, timeout=5)
    assert refused.value.code == 401  # new certificate served, new auth enforced
    request = urllib.request.Request(url, headers={"Authorization": basic(b"scraper:pw")})
    with urllib.request.urlopen(request, context=trusts_new, timeout=5) as response:
        assert response.status == 200
    with pytest.raises((urllib.error.URLError, ssl.SSLError)):
        urllib.request.urlopen(request, context=trusts_old, timeout=5)

    web.write_text("tls_server_config: {cert_file: missing.crt, key_file: missing.key}\n")
    # a broken edit keeps the last good config serving
    with urllib.request.urlopen(request, context=trusts_new, timeout=5) as response:
        assert response.status == 200


def test_keep_alive_and_gzip_like_a_prometheus_scrape(spawn, port, exporter_argv):
    listen = port()
    flags = [f"--web.listen-address=127.0.0.1:{listen}", "--collector.disable-defaults"]
    spawn(
        "exporter", [*exporter_argv, *flags, "--collector.loadavg"], f"http://127.0.0.1:{listen}/"
    )
    connection = http.client.HTTPConnection("127.0.0.1", listen, timeout=5)
    for _ in range(3):  # one connection, several scrapes
        connection.request("GET", "/metrics", headers={"Accept-Encoding": "gzip"})
        response = connection.getresponse()
        body = gzip.decompress(response.read()).decode()
        assert response.status == 200
        assert response.getheader("Content-Encoding") == "gzip"
        assert response.getheader("Content-Type").startswith("text/plain; version=0.0.4")
        assert "node_load1 " in body
    connection.request("GET", "/nope")
    assert connection.getresponse().status == 404
    connection.close()


def test_port_in_use_is_one_clear_line(exporter_argv):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        result = subprocess.run(
            [*exporter_argv, f"--web.listen-address={address}"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert f"cannot listen on {address}" in result.stderr
    assert "Traceback" not in result.stderr


def test_collect_and_exclude_query_filters_like_node_exporter(spawn, port, exporter_argv, get):
    listen = port()
    base_url = f"http://127.0.0.1:{listen}/metrics"
    spawn("exporter", [*exporter_argv, f"--web.listen-address=127.0.0.1:{listen}"], base_url)
    only = get(base_url + "?collect[]=loadavg&collect[]=stat")
    assert "node_load1 " in only and "node_forks_total " in only
    assert "node_cpu_seconds_total" not in only
    assert 'collector="cpu"' not in only
    assert "process_resident_memory_bytes" in only  # exporter metrics stay, as in node_exporter
    without = get(base_url + "?exclude[]=cpu")
    assert "node_cpu_seconds_total" not in without and "node_load1 " in without
    for bad in ("?collect[]=cpu&exclude[]=stat", "?collect[]=nosuch"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(base_url + bad)
        assert refused.value.code == 400


def test_unknown_user_takes_as_long_as_a_wrong_password(spawn, port, exporter_argv, tmp_path):
    """Probe finding (issue 16): timing must not tell which user names exist.

    Interleaved attempts compared by median with a generous factor: before the dummy-hash fix
    an unknown user was answered ~50x faster than a known one (no bcrypt at all), after it both
    cost one bcrypt verification; machine load shifts both medians alike.
    """
    hashed = bcrypt.hashpw(b"s3cret", bcrypt.gensalt(rounds=10)).decode()
    web = tmp_path / "web.yml"
    web.write_text(f"basic_auth_users:\n  prometheus: '{hashed}'\n")
    listen = port()
    spawn(
        "exporter",
        [*exporter_argv, f"--web.listen-address=127.0.0.1:{listen}", f"--web.config.file={web}",
         "--collector.disable-defaults", "--collector.loadavg"],
    )  # fmt: skip
    connection = http.client.HTTPConnection("127.0.0.1", listen, timeout=10)
    end = time.monotonic() + 20
    while True:
        try:
            connection.request("GET", "/metrics")
            connection.getresponse().read()
            break
        except OSError:
            assert time.monotonic() < end, "exporter did not come up"
            connection.close()
            time.sleep(0.1)

    def attempt(credentials: bytes) -> float:
        start = time.perf_counter()
        connection.request("GET", "/metrics", headers={"Authorization": basic(credentials)})
        response = connection.getresponse()
        response.read()
        assert response.status == 401
        return time.perf_counter() - start

    known: list[float] = []
    unknown: list[float] = []
    for i in range(15):
        known.append(attempt(b"prometheus:wrong%d" % i))
        unknown.append(attempt(b"nosuchuser%d:wrong" % i))
    known_median, unknown_median = sorted(known)[7], sorted(unknown)[7]
    assert unknown_median * 3 > known_median, (known_median, unknown_median)
    assert known_median * 3 > unknown_median, (known_median, unknown_median)
