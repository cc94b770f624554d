"""The exporter-toolkit web-config file (--web.config.file): TLS and basic auth users.

Same format as node_exporter's, so `promtool check web-config` validates it too.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass, field
from pathlib import Path

TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
CLIENT_AUTH = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_OPTIONAL,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}


class WebConfigError(ValueError):
    """The web-config file is unusable; the message names the key and how to fix it."""


@dataclass
class WebConfig:
    ssl_context: ssl.SSLContext | None = None
    basic_auth_users: dict[str, str] = field(default_factory=dict)
    # the config file and the certificate files it names: a change to any reloads it
    files: tuple[str, ...] = ()


def files_signature(files: tuple[str, ...]) -> tuple[int, ...]:
    signature = []
    for path in files:
        try:
            signature.append(os.stat(path).st_mtime_ns)
        except OSError:
            signature.append(-1)
    return tuple(signature)


def _resolve(base: Path, value: str) -> str:
    # exporter-toolkit resolves relative paths against the config file's directory
    path = Path(value)
    return str(path if path.is_absolute() else base / path)


def _tls(tls: dict, base: Path, source: str) -> ssl.SSLContext:
    cert, key = tls.get("cert_file"), tls.get("key_file")
    if not cert or not key:
        raise WebConfigError(f"{source}: tls_server_config needs both cert_file and key_file")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    min_version = tls.get("min_version", "TLS12")
    if min_version not in TLS_VERSIONS:
        raise WebConfigError(
            f"{source}: tls_server_config.min_version {min_version!r} is not one of "
            + ", ".join(TLS_VERSIONS)
        )
    context.minimum_version = TLS_VERSIONS[min_version]
    if "max_version" in tls:
        if tls["max_version"] not in TLS_VERSIONS:
            raise WebConfigError(
                f"{source}: tls_server_config.max_version {tls['max_version']!r} is unknown"
            )
        context.maximum_version = TLS_VERSIONS[tls["max_version"]]
    try:
        context.load_cert_chain(_resolve(base, cert), _resolve(base, key))
    except (OSError, ssl.SSLError) as exc:
        raise WebConfigError(f"{source}: cannot load cert_file/key_file: {exc}") from exc
    auth = tls.get("client_auth_type", "NoClientCert")
    if auth not in CLIENT_AUTH:
        raise WebConfigError(
            f"{source}: client_auth_type {auth!r} is not one of " + ", ".join(CLIENT_AUTH)
        )
    context.verify_mode = CLIENT_AUTH[auth]
    if tls.get("client_ca_file"):
        context.load_verify_locations(_resolve(base, tls["client_ca_file"]))
    elif auth in ("RequireAndVerifyClientCert", "VerifyClientCertIfGiven"):
        raise WebConfigError(f"{source}: client_auth_type {auth} needs client_ca_file")
    return context


def load_web_config(path: str | None) -> WebConfig:
    if not path:
        return WebConfig()
    import yaml  # only exporters with a web-config pay its memory

    source = Path(path)
    try:
        data = yaml.safe_load(source.read_text()) or {}
    except OSError as exc:
        raise WebConfigError(f"--web.config.file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise WebConfigError(f"--web.config.file {path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise WebConfigError(f"{path}: expected a mapping with tls_server_config/basic_auth_users")
    unknown = set(data) - {
        "tls_server_config",
        "http_server_config",
        "basic_auth_users",
        "rate_limit",
    }
    if unknown:
        raise WebConfigError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}")
    config = WebConfig(files=(path,))
    tls = data.get("tls_server_config")
    if tls:
        config.ssl_context = _tls(tls, source.parent, path)
        named = [tls.get(k) for k in ("cert_file", "key_file", "client_ca_file") if tls.get(k)]
        config.files += tuple(_resolve(source.parent, name) for name in named)
    users = data.get("basic_auth_users") or {}
    for user, hashed in users.items():
        if not str(hashed).startswith(("$2a$", "$2b$", "$2y$")):
            raise WebConfigError(
                f"{path}: basic_auth_users.{user} must be a bcrypt hash "
                "(generate one with: htpasswd -nBC 10 '' | tr -d ':\\n')"
            )
    config.basic_auth_users = {str(k): str(v) for k, v in users.items()}
    return config
