"""Mail for real (issue 15, finding 4): queued in the database with what caused it, delivered
over SMTP to a real server on loopback (aiosmtpd) with STARTTLS or implicit TLS and AUTH,
plain-text and HTML bodies; an outage delays mail and loses none; admins see the queue."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from app_support.client import BASE, make_app, queued_mail, signed_in
from app_support.server import free_port
from app_support.smtp import REFUSED, smtp_server
from app_support.world import build_world
from fastapi.testclient import TestClient

from app.mail import outbox, worker
from app.models import MailStatus, OutgoingMail, utcnow

CREDENTIALS = ("eyeshots", "relay secret")


def _wait_for(condition, what: str, timeout: float = 20.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _smtp_settings(box, security: str) -> dict[str, object]:
    return {"smtp_host": "localhost", "smtp_port": box.port, "smtp_security": security,
            "smtp_username": CREDENTIALS[0], "smtp_password": CREDENTIALS[1],
            "smtp_ca_file": box.ca_file, "mail_poll_seconds": 0.05,
            "mail_from": "Eye Shots <studio@eyeshots.test>"}  # fmt: skip


def _parts(message) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk()
            if not part.is_multipart()}  # fmt: skip


def test_reset_link_is_delivered_over_starttls_with_auth_and_works(engine, migrated_url, tmp_path):
    with smtp_server(tmp_path, "starttls", CREDENTIALS) as box:
        app = make_app(migrated_url, tmp_path, **_smtp_settings(box, "starttls"))
        with TestClient(app):  # the lifespan runs the app's mail drainer
            build_world(app)
            browser = TestClient(app, base_url=BASE)
            assert (
                browser.post("/forgot-password", data={"email": "pm@studio.test"}).status_code
                == 200
            )
            _wait_for(lambda: box.messages, "the reset mail")
            (message,) = box.messages
            assert message["To"] == "pm@studio.test" and "studio@eyeshots.test" in message["From"]
            assert message["Subject"] == "Reset your Eye Shots password"
            assert box.logins == ["eyeshots"]
            parts = _parts(message)
            assert set(parts) == {"text/plain", "text/html"}
            link = re.search(
                r"https://testserver/reset-password\?token=\S+", parts["text/plain"]
            ).group(0)
            assert (
                link.replace("&", "&amp;") in parts["text/html"]
                and "<a href=" in parts["text/html"]
            )
            _wait_for(
                lambda: queued_mail(app, "pm@studio.test")[0].status is MailStatus.SENT, "sent"
            )
            (row,) = queued_mail(app, "pm@studio.test")
            assert row.text_body == row.html_body == "" and row.attempts == 1  # no link kept
            token = link.split("token=", 1)[1]
            done = browser.post("/reset-password", data={"token": token, "password": "a new password!"},
                                follow_redirects=False)  # fmt: skip
            assert done.status_code == 303
            assert browser.post("/api/auth/login", json={"email": "pm@studio.test",
                                "password": "a new password!"}).status_code == 200  # fmt: skip


def test_invitation_mail_over_implicit_tls(app, world, tmp_path):
    with smtp_server(tmp_path, "tls", CREDENTIALS) as box:
        admin = signed_in(app, "admin@studio.test")
        invite = admin.post("/api/auth/invitations", json={"email": "c@acme.test", "role": "client",
                            "client_org_id": world.org})  # fmt: skip
        settings = app.state.settings.model_copy(update=_smtp_settings(box, "tls"))
        assert worker.drain(app.state.sessionmaker, settings) == {
            "sent": 1,
            "retry": 0,
            "failed": 0,
        }
        (message,) = box.messages
        text = _parts(message)["text/plain"]
        assert invite.json()["accept_url"] in text and "Acme" in text and "Launch film" in text


def test_an_outage_delays_mail_and_loses_none(app, world, tmp_path):
    admin = signed_in(app, "admin@studio.test")
    csrf = admin.headers["X-CSRF-Token"]
    for name in ("creative", "client"):
        sent = admin.post(f"/admin/users/{world.users[name]}/password-reset", data={"csrf_token": csrf},
                          follow_redirects=False)  # fmt: skip
        assert sent.status_code == 303
    port = free_port()  # nothing listens here yet: the mail server is down
    settings = app.state.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port,
                                                     "smtp_security": "none"})  # fmt: skip
    assert worker.drain(app.state.sessionmaker, settings) == {"sent": 0, "retry": 2, "failed": 0}
    (row,) = queued_mail(app, "creative@studio.test")
    assert row.status is MailStatus.QUEUED and row.attempts == 1 and "Connection" in row.last_error
    assert timedelta(seconds=50) < row.next_attempt_at - utcnow() <= timedelta(seconds=60)
    assert worker.drain(app.state.sessionmaker, settings)["retry"] == 0  # not due yet: no hammering
    page = admin.get("/admin/users").text
    assert "creative@studio.test" in page and "Connection" in page and "queued" in page
    later = utcnow() + outbox.retry_delay(1) + timedelta(seconds=1)
    assert worker.drain(app.state.sessionmaker, settings, later)["retry"] == 2  # still down
    assert queued_mail(app, "creative@studio.test")[0].attempts == 2
    with smtp_server(tmp_path) as box:
        back = app.state.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": box.port,
                                                     "smtp_security": "none"})  # fmt: skip
        much_later = later + outbox.retry_delay(2) + timedelta(seconds=1)
        assert worker.drain(app.state.sessionmaker, back, much_later)["sent"] == 2
    assert sorted(m["To"] for m in box.messages) == ["client@studio.test", "creative@studio.test"]


def test_retries_back_off_to_an_hour():
    delays = [outbox.retry_delay(n).total_seconds() for n in range(1, 10)]
    assert delays[:4] == [60, 120, 240, 480] and delays[-1] == 3600


def test_a_refused_recipient_fails_for_good_and_the_admin_can_retry(app, world, tmp_path):
    with app.state.sessionmaker.begin() as db:
        outbox.enqueue(db, REFUSED, "notification", "Hello", name="N", message="m", link="")
    with smtp_server(tmp_path) as box:
        settings = app.state.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": box.port,
                                                         "smtp_security": "none"})  # fmt: skip
        assert worker.drain(app.state.sessionmaker, settings)["failed"] == 1
    (row,) = queued_mail(app, REFUSED)
    assert row.status is MailStatus.FAILED and "550" in row.last_error
    admin = signed_in(app, "admin@studio.test")
    assert f"/admin/mail/{row.id}/retry" in admin.get("/admin/users").text
    retried = admin.post(
        f"/admin/mail/{row.id}/retry", data={"csrf_token": admin.headers["X-CSRF-Token"]}
    )
    assert retried.status_code == 200 and queued_mail(app, REFUSED)[0].status is MailStatus.QUEUED


@pytest.mark.parametrize("security", ["starttls", "none"])
def test_a_wrong_relay_password_keeps_mail_queued(app, world, tmp_path, security):
    with app.state.sessionmaker.begin() as db:
        outbox.enqueue(db, "x@acme.test", "notification", "Hello", name="N", message="m", link="")
    with smtp_server(tmp_path, "starttls", CREDENTIALS) as box:
        settings = app.state.settings.model_copy(update={**_smtp_settings(box, security),
                                                         "smtp_password": "wrong"})  # fmt: skip
        assert worker.drain(app.state.sessionmaker, settings)["retry"] == 1
    assert not box.messages and queued_mail(app, "x@acme.test")[0].status is MailStatus.QUEUED


def test_without_a_mail_server_mail_stays_queued_and_visible(app, world):
    assert not app.state.settings.smtp_host  # the sandbox and `eyeshots up` default
    admin = signed_in(app, "admin@studio.test")
    response = admin.post(f"/admin/users/{world.users['pm']}/password-reset",
                          data={"csrf_token": admin.headers["X-CSRF-Token"]})  # fmt: skip
    assert response.status_code == 200 and "is queued" in response.text
    assert "No mail server is configured" in response.text
    assert worker.drain(app.state.sessionmaker, app.state.settings) == {
        "sent": 0,
        "retry": 0,
        "failed": 0,
    }
    with app.state.sessionmaker() as db:
        assert (
            db.get(OutgoingMail, queued_mail(app, "pm@studio.test")[0].id).status
            is MailStatus.QUEUED
        )
