"""Sign-in throttling that slows guessing without locking anyone out.

Every failure is a row (email, address, time). A try must wait until the last failure plus a
delay that doubles per failure beyond a few free ones, capped — per account and per address —
but only when it comes from an address with recent failures: the owner signing in from an
address that is not failing is never refused, whatever an attacker does elsewhere.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.settings import Settings
from app.models import LoginAttempt


def network(ip: str) -> str:
    """The address's /24 (IPv4) or /64 (IPv6): one subscriber or office usually holds a whole
    IPv6 /64, so counting single addresses would give an attacker billions of fresh ones."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def delay(failures: int, free: int, first: float, cap: float) -> float:
    """Seconds a try waits after `failures` recent failures."""
    if failures < free:
        return 0.0
    return min(first * 2 ** (failures - free), cap)


def _failures(
    db: Session, column: object, value: str, since: datetime
) -> tuple[int, datetime | None]:
    count, last = db.execute(
        select(func.count(), func.max(LoginAttempt.at)).where(
            column == value, LoginAttempt.at > since
        )
    ).one()
    return count or 0, last


def wait_seconds(db: Session, settings: Settings, email: str, ip: str, now: datetime) -> float:
    """0 when this try may go ahead, else the seconds until it may. `ip` as network() gives."""
    since = now - timedelta(seconds=settings.login_window_seconds)
    by_ip, ip_last = _failures(db, LoginAttempt.ip, ip, since)
    if by_ip == 0:
        return 0.0
    by_email, email_last = _failures(db, LoginAttempt.email, email, since)
    first = settings.login_first_delay_seconds
    ready = [ip_last + timedelta(seconds=delay(by_ip, settings.login_ip_free_failures, first,
                                               settings.login_ip_max_delay_seconds))]  # fmt: skip
    if email_last is not None:
        ready.append(email_last + timedelta(seconds=delay(by_email, settings.login_free_failures,
                                                          first, settings.login_max_delay_seconds)))  # fmt: skip
    return max(0.0, max((r - now).total_seconds() for r in ready))
