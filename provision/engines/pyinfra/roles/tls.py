"""roles/tls with pyinfra: a certificate nginx can always start with, then (acme mode) the real
one from certbot through nginx's webroot."""

from __future__ import annotations

from pyinfra.api import deploy
from pyinfra.operations import apt, files, systemd

from provision.engines.pyinfra import variables
from provision.engines.pyinfra.operations import config, service, tls
from provision.templates import render

DEPLOY_HOOK = "/etc/letsencrypt/renewal-hooks/deploy/eyeshots-nginx.sh"


def names(v: dict) -> list[str]:
    return [v["eyeshots_domain"], *v["tls_extra_domains"]]


@deploy("tls: bootstrap certificate")
def bootstrap() -> None:
    """Before nginx starts: the self-signed pair and the live link pointing at it."""
    v = variables()
    tls.selfsigned(
        name="Self-signed certificate",
        directory=v["tls_selfsigned_dir"],
        names=names(v),
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
    config.file(
        name="Reload nginx when certbot renews",
        content=render("tls", "deploy-hook.sh.j2", v),
        dest=DEPLOY_HOOK,
        mode="0755",
    )
    dropin = "/etc/systemd/system/certbot.service.d/eyeshots-ca.conf"
    if v["tls_acme_ca_bundle"]:
        config.file(
            name="certbot trusts the private ACME CA",
            content=render("tls", "certbot-environment.conf.j2", v),
            dest=dropin,
            notify="systemd",
            notify_action="daemon-reload",
        )
    else:
        removed = files.file(name="certbot uses the system CAs", path=dropin, present=False)
        service.notify(
            name="Units changed", service="systemd", action="daemon-reload", _if=removed.did_change
        )
    service.pending(name="Reload units", service="systemd", action="daemon-reload")
    tls.certbot_certificate(
        name=f"Certificate for {', '.join(names(v))}",
        names=names(v),
        webroot=v["nginx_acme_webroot"],
        server=v["tls_acme_directory"],
        email=v["tls_acme_email"],
        deploy_hook=DEPLOY_HOOK,
        ca_bundle=v["tls_acme_ca_bundle"],
    )
    for directory in ("/etc/letsencrypt/live", "/etc/letsencrypt/archive"):
        files.directory(name=f"{directory} readable by the exporter", path=directory, mode="0755")
    systemd.service(
        name="Renew certificates twice a day", service="certbot.timer", running=True, enabled=True
    )
