"""Drains the mail queue: due rows are claimed, sent one by one, and marked sent or scheduled
for a retry. Each app process runs `run_forever` (claims keep them from sending twice);
`eyeshots app send-mail` drains once."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.orm import sessionmaker

from app.core.settings import Settings
from app.mail import outbox, smtp
from app.models import OutgoingMail, utcnow

log = logging.getLogger("eyeshots.mail")
BATCH = 20


def drain(factory: sessionmaker, settings: Settings, now: datetime | None = None) -> dict[str, int]:
    """Sends what is due; counts of sent, retried and failed mail."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not settings.smtp_host:
        return counts  # no server configured: mail waits, visible on the Users page
    now = now or utcnow()
    with factory.begin() as db:
        claimed = outbox.claim_due(db, now, BATCH)
    for mail_id in claimed:
        with factory.begin() as db:
            mail = db.get(OutgoingMail, mail_id)
            to = mail.to_addr
            message = smtp.build_message(settings, mail.to_addr, mail.subject, mail.text_body,
                                         mail.html_body)  # fmt: skip
        try:
            smtp.send(settings, message)
        except smtp.MailError as error:
            with factory.begin() as db:
                mail = db.get(OutgoingMail, mail_id)
                outbox.mark_failed_attempt(db, mail, utcnow(), str(error), error.permanent)
            counts["failed" if error.permanent else "retry"] += 1
            # the recipient, not the link: bodies stay out of logs
            log.warning("mail %s to %s not sent: %s", mail_id, to, error)
            continue
        with factory.begin() as db:
            outbox.mark_sent(db, db.get(OutgoingMail, mail_id), utcnow())
        counts["sent"] += 1
    return counts


async def run_forever(factory: sessionmaker, settings: Settings) -> None:
    while True:
        try:
            await asyncio.to_thread(drain, factory, settings)
        except Exception:  # a database hiccup must not end mail delivery for the process
            log.exception("mail queue drain failed; trying again")
        await asyncio.sleep(settings.mail_poll_seconds)
