"""roles/nginx with pyinfra: one validated nginx.conf, reloaded (never restarted) on change."""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import apt, files, systemd

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.facts.tls import Certificate
from provision.engines.pyinfra.files import managed
from provision.engines.pyinfra.operations import service

# The first release of each distribution whose archive has nginx >= 1.25.1 (`http2 on`). Known
# before nginx is installed, so the first run renders what every later run renders.
HTTP2_DIRECTIVE_SINCE = {"Debian": 13, "Ubuntu": 25}


def http2_directive(distribution: dict) -> bool:
    """Whether the distribution's nginx takes `http2 on;` rather than `listen ... http2`."""
    since = HTTP2_DIRECTIVE_SINCE.get(distribution.get("name") or "")
    return since is not None and (distribution.get("major") or 0) >= since


@deploy("nginx")
def apply() -> None:
    v = variables()
    apt.packages(name="Install nginx", packages=["nginx"], no_recommends=True)
    for directory in (v["nginx_acme_webroot"], v["nginx_placeholder_root"]):
        files.directory(name=f"Directory {directory}", path=directory, mode="0755")
    upstreams = v["nginx_upstreams_file"]
    files.directory(name="Upstreams directory", path=upstreams.rsplit("/", 1)[0], mode="0755")
    # Staple OCSP only when the certificate names a responder (Let's Encrypt no longer does).
    certificate = host.get_fact(Certificate, path=f"{v['tls_live_dir']}/fullchain.pem")
    facts = {
        "tls_ocsp_stapling": bool(certificate and certificate["ocsp"]),
        "nginx_http2_directive": v["nginx_http2_directive"]
        or http2_directive(host.get_fact(LinuxDistribution)),
    }
    managed("nginx", v, facts)
    files.link(
        name="No distribution default site", path="/etc/nginx/sites-enabled/default", present=False
    )
    systemd.service(name="Run nginx", service="nginx", running=True, enabled=True)
    service.pending(name="Reload nginx", service="nginx")
