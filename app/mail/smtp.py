"""One message to an SMTP server: implicit TLS, STARTTLS or plain (a local relay), AUTH when a
username is set. Raises MailError saying whether trying again can help."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from app.core.settings import Settings


class MailError(Exception):
    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def build_message(settings: Settings, to: str, subject: str, text: str, html: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rsplit("@", 1)[-1].strip(">"))
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def _tls_context(settings: Settings) -> ssl.SSLContext:
    cafile = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
    return ssl.create_default_context(cafile=cafile)


def send(settings: Settings, message: EmailMessage) -> None:
    host, port, timeout = settings.smtp_host, settings.smtp_port, settings.smtp_timeout_seconds
    try:
        if settings.smtp_security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout,
                                                  context=_tls_context(settings))  # fmt: skip
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if settings.smtp_security == "starttls":
                smtp.starttls(context=_tls_context(settings))
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_secret)
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        # 5xx for every recipient: the address is wrong, retrying cannot help
        raise MailError(
            f"recipient refused: {error.recipients}", all(c >= 500 for c in codes)
        ) from None
    except smtplib.SMTPResponseException as error:
        raise MailError(
            f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}", False
        ) from None
    except (OSError, smtplib.SMTPException) as error:
        # unreachable, timed out, TLS refused, AUTH unsupported: the server's or the settings'
        # fault, never the message's, so it stays queued
        raise MailError(f"{type(error).__name__}: {error}", False) from None
