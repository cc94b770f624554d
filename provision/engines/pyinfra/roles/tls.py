"""roles/tls with pyinfra: a certificate nginx can always start with, then (acme mode) the real
one from certbot through nginx's webroot."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import apt, files, systemd

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.files import managed
from provision.engines.pyinfra.operations import service, tls


@deploy("tls: bootstrap certificate")
def bootstrap() -> None:
    """Before nginx starts: the self-signed pair and the live link pointing at it."""
    v = variables()
    tls.selfsigned(
        name="Self-signed certificate",
        directory=v["tls_selfsigned_dir"],
        names=v["tls_certificate_names"],
        days=v["tls_selfsigned_days"],
    )
    # Certificates are public; the directories are opened so the exporter's unprivileged user
    # can read their expiry. Private keys stay 0600 root.
    files.directory(
        name="Certificates readable by the exporter", path=v["tls_selfsigned_dir"], mode="0755"
    )
    tls.live_link(
        name="nginx reads the current certificate",
        path=v["tls_live_dir"],
        target=v["tls_selfsigned_dir"],
        # In acme mode certbot's deploy hook moves the link to its own certificate.
        keep_existing=v["tls_mode"] == "acme",
    )


@deploy("tls: ACME certificate")
def obtain() -> None:
    """After nginx serves the webroot: certbot's certificate and its renewal."""
    v = variables()
    if v["tls_mode"] != "acme":
        return
    apt.packages(name="Install certbot", packages=["certbot"], no_recommends=True)
    managed("tls", v)
    service.pending(name="Reload units", service="systemd", action="daemon-reload")
    tls.certbot_certificate(
        name=f"Certificate for {', '.join(v['tls_certificate_names'])}",
        names=v["tls_certificate_names"],
        webroot=v["nginx_acme_webroot"],
        server=v["tls_acme_directory"],
        email=v["tls_acme_email"],
        deploy_hook=v["tls_deploy_hook"],
        ca_bundle=v["tls_acme_ca_bundle"],
    )
    for directory in ("/etc/letsencrypt/live", "/etc/letsencrypt/archive"):
        files.directory(name=f"{directory} readable by the exporter", path=directory, mode="0755")
    systemd.service(
        name="Renew certificates twice a day", service="certbot.timer", running=True, enabled=True
    )
