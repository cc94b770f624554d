"""Writes events in the caller's transaction; the commit is what makes them visible."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models import Audience, Event, User

CHANNEL = "eyeshots_events"


def record(
    db: Session,
    kind: str,
    project_id: int | None,
    actor: User | None,
    payload: dict[str, Any] | None = None,
    audience: Audience = Audience.ALL,
) -> Event:
    event = Event(
        kind=kind,
        project_id=project_id,
        actor_id=actor.id if actor else None,
        payload=payload or {},
        audience=audience,
    )
    db.add(event)
    db.flush()
    if db.get_bind().dialect.name == "postgresql":
        # delivered to listeners only at COMMIT, never on rollback
        db.execute(
            text("SELECT pg_notify(:channel, :id)"), {"channel": CHANNEL, "id": str(event.id)}
        )
    db.info["events_written"] = True
    return event


def events_after(
    db: Session, project_id: int, after_id: int, include_internal: bool, limit: int = 200
) -> list[Event]:
    stmt = (
        select(Event)
        .where(Event.project_id == project_id, Event.id > after_id)
        .order_by(Event.id)
        .limit(limit)
    )
    if not include_internal:
        stmt = stmt.where(Event.audience == Audience.ALL)
    return list(db.scalars(stmt))


def latest_event_id(db: Session) -> int:
    return db.scalar(select(Event.id).order_by(Event.id.desc()).limit(1)) or 0
