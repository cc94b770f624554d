"""Certificate operations: a self-signed pair, the live link nginx reads, certbot issuance."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from pyinfra import host
from pyinfra.api import operation
from pyinfra.facts.files import Link

from provision.engines.pyinfra.facts.tls import CertbotLineage, Certificate

RENEW_BEFORE_DAYS = 30


@operation()
def selfsigned(directory: str, names: list[str], days: int = 365) -> Iterator[str]:
    """A self-signed ECDSA P-256 certificate for ``names`` in ``directory``, remade when the
    names change or it nears expiry."""
    current = host.get_fact(Certificate, path=f"{directory}/fullchain.pem")
    if (
        current
        and sorted(current["names"]) == sorted(names)
        and current["days_left"] > RENEW_BEFORE_DAYS
    ):
        host.noop(
            f"self-signed certificate for {', '.join(names)} valid {current['days_left']} more days"
        )
        return
    san = ",".join(f"DNS:{name}" for name in names)
    yield (
        f"install -d -m 0700 {directory} && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
        f"-nodes -days {days} -subj {shlex.quote('/CN=' + names[0])} -addext {shlex.quote('subjectAltName=' + san)} "
        f"-keyout {directory}/privkey.pem.new -out {directory}/fullchain.pem.new 2>/dev/null "
        f"&& chmod 0600 {directory}/privkey.pem.new "
        f"&& mv -f {directory}/privkey.pem.new {directory}/privkey.pem "
        f"&& mv -f {directory}/fullchain.pem.new {directory}/fullchain.pem"
    )


@operation()
def live_link(path: str, target: str, keep_existing: bool = False) -> Iterator[str]:
    """Point the symlink ``path`` at ``target`` in one rename (nginx never sees it missing).
    With ``keep_existing`` an existing link is left alone (certbot's hook owns it then)."""
    link = host.get_fact(Link, path=path)
    current = link["link_target"] if link else None
    if current == target or (keep_existing and current):
        host.noop(f"{path} -> {current}")
        return
    yield f"mkdir -p $(dirname {path}) && ln -sfn {target} {path}.new && mv -Tf {path}.new {path}"


@operation()
def certbot_certificate(
    names: list[str],
    webroot: str,
    server: str,
    email: str,
    deploy_hook: str,
    ca_bundle: str = "",
) -> Iterator[str]:
    """Obtain a certificate for ``names`` through HTTP-01 (webroot) unless certbot already holds
    one for exactly these names from this ACME server; renewals are certbot.timer's job."""
    lineage = host.get_fact(CertbotLineage, cert_name=names[0])
    if lineage and lineage["server"] == server and lineage["names"] == sorted(names):
        host.noop(f"certbot holds a certificate for {', '.join(names)} from {server}")
        return
    env = f"REQUESTS_CA_BUNDLE={shlex.quote(ca_bundle)} " if ca_bundle else ""
    domains = " ".join(f"-d {shlex.quote(name)}" for name in names)
    account = f"--email {shlex.quote(email)}" if email else "--register-unsafely-without-email"
    yield (
        f"{env}certbot certonly --non-interactive --agree-tos {account} --webroot -w {shlex.quote(webroot)} "
        f"--cert-name {shlex.quote(names[0])} {domains} --server {shlex.quote(server)} "
        f"--deploy-hook {shlex.quote(deploy_hook)} --force-renewal"
    )
