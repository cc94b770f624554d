"""Server-Sent Events per project, replayable from any event id (Last-Event-ID)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from app.auth.service import resolve_session
from app.authz.guard import visible_project
from app.core.deps import cookie_name
from app.core.errors import NotAuthenticated, NotFound
from app.core.schemas import IdPath
from app.events.service import events_after, latest_event_id
from app.reviews.service import sees_internal

router = APIRouter(tags=["events"])

PING_SECONDS = 15
BATCH = 200


def _parse_id(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


@router.get(
    "/projects/{project_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def project_events(
    project_id: IdPath,
    request: Request,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    last_event_id: Annotated[str | None, Header(max_length=40)] = None,
) -> StreamingResponse:
    app = request.app
    token = request.cookies.get(cookie_name(app.state.settings))

    def read(after_id: IdPath | None) -> tuple[list[dict[str, object]], int]:
        # a fresh session per read: the stream may stay open for hours
        with app.state.sessionmaker() as db:
            found = resolve_session(db, token) if token else None
            if found is None:
                raise NotAuthenticated("Sign in first")
            user = found[0]
            project = visible_project(db, user, project_id)
            if after_id is None:
                return [], latest_event_id(db)
            rows = events_after(db, project.id, after_id, sees_internal(db, user, project), BATCH)
            out = [
                {"id": e.id, "kind": e.kind, "payload": e.payload, "actor_id": e.actor_id}
                for e in rows
            ]
            return out, rows[-1].id if rows else after_id

    # the browser's Last-Event-ID on reconnect wins over the page's starting point
    start = _parse_id(last_event_id)
    start = start if start is not None else after
    _, newest = await run_in_threadpool(read, None)  # checks access before answering 200
    cursor = start if start is not None else newest
    broker = app.state.broker

    async def stream() -> AsyncIterator[str]:
        nonlocal cursor
        waiter = broker.subscribe()
        try:
            yield "retry: 2000\n\n"
            while True:
                waiter.clear()
                try:
                    batch, cursor = await run_in_threadpool(read, cursor)
                except (NotAuthenticated, NotFound):
                    return  # signed out or access removed: end the stream
                for item in batch:
                    data = json.dumps(item, separators=(",", ":"))
                    yield f"id: {item['id']}\ndata: {data}\n\n"
                if len(batch) == BATCH:
                    continue
                try:
                    await asyncio.wait_for(waiter.wait(), timeout=PING_SECONDS)
                except TimeoutError:
                    yield ": ping\n\n"
        finally:
            broker.unsubscribe(waiter)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
