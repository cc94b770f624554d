"""monitoring/dashboards/eyeshots-platform.json: every query of every panel returns data in a real
Prometheus that scrapes the exporter (with the backup job's textfile and a certificate) and the web
app (serving real requests), with the production rules loaded, as on the VPS."""

from __future__ import annotations

import datetime
import json
import shutil
import threading
import time
import urllib.error
import urllib.parse
from pathlib import Path

from app_support.client import make_app
from app_support.server import serving
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import create_engine

from app.core.migrations import upgrade
from monitoring.backup_metrics import BackupRun, write_backup_metrics
from monitoring.config import RULES_DIR
from monitoring.dashboards.selectors import panels
from provision.monitoring_commands import render

DASHBOARD = RULES_DIR.parent / "dashboards" / "eyeshots-platform.json"


def certificate(path: Path, domain: str, days: int) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def query(get, prometheus: str, promql: str) -> list[dict]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    answer = json.loads(get(url))
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def test_every_dashboard_query_returns_data(spawn, port, get, exporter_argv, tmp_path):
    dashboard = json.loads(DASHBOARD.read_text())
    # what Grafana needs to import it unchanged: a datasource input, unique ids, refIds
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    drawn = list(panels(dashboard))
    assert all(t["refId"] and t["datasource"]["uid"] == "${DS_PROMETHEUS}"
               for p in drawn for t in p["targets"])  # fmt: skip

    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    write_backup_metrics(
        BackupRun(
            "local", time.time() - 3600, 120.0, True, added_bytes=2**20, processed_bytes=2**30
        ),
        str(textfiles),
    )
    cert = tmp_path / "cert.pem"
    certificate(cert, "eyeshots.example", days=40)
    exporter = port()
    spawn("exporter", [*exporter_argv, f"--web.listen-address=127.0.0.1:{exporter}",
                       f"--collector.textfile.directory={textfiles}", "--collector.tlscert",
                       f"--collector.tlscert.file={cert}"], f"http://127.0.0.1:{exporter}/metrics")  # fmt: skip

    database = f"sqlite:///{tmp_path / 'app.sqlite'}"
    upgrade(create_engine(database))
    with serving(make_app(database, tmp_path / "data")) as app_url:
        stop = threading.Event()

        def browse() -> None:  # a visitor: pages, health checks, a file link without a session
            while not stop.is_set():
                for path in ("/", "/healthz", "/api/files/1"):
                    try:
                        get(app_url + path)
                    except urllib.error.HTTPError:
                        pass
                time.sleep(0.05)

        visitor = threading.Thread(target=browse, daemon=True)
        visitor.start()
        try:
            check_queries(spawn, port, get, tmp_path, exporter, app_url, drawn)
        finally:
            stop.set()
            visitor.join(timeout=10)


def check_queries(spawn, port, get, tmp_path, exporter, app_url, drawn) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    for path in RULES_DIR.glob("*.yml"):
        shutil.copy(path, rules / path.name)
    prometheus = port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        render(
            "prometheus", "prometheus.yml",
            prometheus_listen_address=f"127.0.0.1:{prometheus}", prometheus_rules_dir=str(rules),
            prometheus_scrape_interval="1s", prometheus_scrape_timeout="1s",
            prometheus_evaluation_interval="1s",
            prometheus_node_targets=[f"127.0.0.1:{exporter}"],
            prometheus_app_targets=[app_url.removeprefix("http://")],
            alertmanager_listen_address=f"127.0.0.1:{port()}",
        )
    )  # fmt: skip
    url = f"http://127.0.0.1:{prometheus}"
    spawn("prometheus", [shutil.which("prometheus"), f"--config.file={config}",
                         f"--storage.tsdb.path={tmp_path / 'prom-data'}",
                         f"--web.listen-address=127.0.0.1:{prometheus}"], f"{url}/-/ready")  # fmt: skip
    expressions = [
        t["expr"].replace("$__rate_interval", "5s").replace("$instance", ".*")
        for p in drawn for t in p["targets"]
    ]  # fmt: skip
    end = time.monotonic() + 90
    while True:
        empty = [e for e in expressions if not query(get, url, e)]
        if not empty:
            break
        assert time.monotonic() < end, f"dashboard queries without data: {empty}"
        time.sleep(1)
