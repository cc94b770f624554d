"""The mail queue: rows written with the change that causes them, read by the drainer and
the admin's Users page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.mail.compose import compose
from app.models import MailStatus, OutgoingMail, utcnow

FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 3600
# a sender that died mid-send gives its claim up after this
CLAIM_SECONDS = 300


def enqueue(db: Session, to: str, kind: str, subject: str, **context: Any) -> OutgoingMail:
    body = compose(kind, subject, **context)
    mail = OutgoingMail(kind=kind, to_addr=to, subject=body.subject, text_body=body.text,
                        html_body=body.html, status=MailStatus.QUEUED, attempts=0,
                        next_attempt_at=utcnow(), last_error="")  # fmt: skip
    db.add(mail)
    db.flush()
    return mail


def retry_delay(attempts: int) -> timedelta:
    """1 min, 2, 4, ... capped at an hour: an outage of any length delays mail, loses none."""
    return timedelta(
        seconds=min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)
    )


def claim_due(db: Session, now: datetime, limit: int) -> list[int]:
    """Ids of due mail this caller now owns for CLAIM_SECONDS (one UPDATE per row, so two
    processes never claim the same row, on SQLite and PostgreSQL alike)."""
    free = or_(OutgoingMail.claimed_until.is_(None), OutgoingMail.claimed_until < now)
    candidates = db.scalars(
        select(OutgoingMail.id)
        .where(OutgoingMail.status == MailStatus.QUEUED, OutgoingMail.next_attempt_at <= now, free)
        .order_by(OutgoingMail.id)
        .limit(limit)
    ).all()
    claimed = []
    for mail_id in candidates:
        won = db.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail_id, OutgoingMail.status == MailStatus.QUEUED, free)
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        ).rowcount
        if won == 1:
            claimed.append(mail_id)
    return claimed


def mark_sent(db: Session, mail: OutgoingMail, now: datetime) -> None:
    mail.status, mail.sent_at, mail.claimed_until = MailStatus.SENT, now, None
    mail.attempts += 1
    mail.last_error = ""
    # the bodies may hold one-time links; delivered, they need not stay in the database
    mail.text_body = mail.html_body = ""


def mark_failed_attempt(
    db: Session, mail: OutgoingMail, now: datetime, error: str, permanent: bool
) -> None:
    mail.attempts += 1
    mail.last_error = error[:500]
    mail.claimed_until = None
    if permanent:
        mail.status = MailStatus.FAILED
    else:
        mail.next_attempt_at = now + retry_delay(mail.attempts)


def retry_now(db: Session, mail_id: int) -> bool:
    return (
        db.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail_id, OutgoingMail.status != MailStatus.SENT)
            .values(status=MailStatus.QUEUED, next_attempt_at=utcnow(), claimed_until=None)
        ).rowcount
        == 1
    )


def recent(db: Session, limit: int = 50) -> list[OutgoingMail]:
    return list(db.scalars(select(OutgoingMail).order_by(OutgoingMail.id.desc()).limit(limit)))
