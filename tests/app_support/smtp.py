"""A real SMTP server on loopback (aiosmtpd) for the mail tests: plain, STARTTLS or implicit
TLS, optional AUTH, a recipient it refuses for good, and the messages it accepted."""

from __future__ import annotations

import datetime
import email
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app_support.server import free_port

REFUSED = "nobody@refused.test"


@dataclass
class Mailbox:
    port: int
    ca_file: Path | None
    messages: list[Message] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, ANN201
        if address == REFUSED:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201
        self.box.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost/127.0.0.1 (its own CA) and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = directory / "smtp.crt", directory / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))  # fmt: skip
    return cert_file, key_file


@contextmanager
def smtp_server(directory: Path, security: str = "none",
                credentials: tuple[str, str] | None = None) -> Iterator[Mailbox]:  # fmt: skip
    port = free_port()
    ca_file = None
    context = None
    if security != "none":
        ca_file, key_file = self_signed(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(ca_file, key_file)
    box = Mailbox(port, ca_file)
    kwargs: dict[str, object] = {}
    if security == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    if credentials is not None:

        def authenticate(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode(), auth_data.password.decode()) == credentials  # fmt: skip
            if ok:
                box.logins.append(auth_data.login.decode())
            return AuthResult(success=ok)

        # implicit TLS is TLS from the first byte, which aiosmtpd's require-TLS check misses
        kwargs.update(authenticator=authenticate, auth_required=True,
                      auth_require_tls=security == "starttls")  # fmt: skip
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port,
                            ssl_context=context if security == "tls" else None,
                            server_hostname="localhost", **kwargs)  # fmt: skip
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
