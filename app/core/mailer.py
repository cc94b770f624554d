"""Outgoing mail. Delivery is not wired yet: messages go to the log and a short in-memory list."""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

log = logging.getLogger("eyeshots.mail")


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class LogMailer:
    def __init__(self, keep: int = 100) -> None:
        self.sent: deque[Message] = deque(maxlen=keep)

    def send(self, to: str, subject: str, body: str) -> None:
        self.sent.append(Message(to, subject, body))
        # the body holds a one-time link; it is for the operator's eyes on a dev setup only
        log.info("mail to %s: %s\n%s", to, subject, body)
