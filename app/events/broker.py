"""Wakes the open event streams of this process whenever new events may exist.

Streams do not receive events from the broker, only a nudge: each one then reads the events
table after its own last id, with its own permissions. So a missed nudge costs latency, never
an event, and any number of app processes can share one database:
  PostgreSQL  a dedicated LISTEN connection per process (NOTIFY is sent at COMMIT);
  SQLite      a cheap poll of the newest event id.
Commits made in this process nudge at once in both cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.events.service import CHANNEL, latest_event_id

log = logging.getLogger("eyeshots.events")


class Broker:
    def __init__(self, engine: Engine, factory: sessionmaker[Session], poll_seconds: float) -> None:
        self._engine = engine
        self._factory = factory
        self._poll_seconds = poll_seconds
        self._waiters: set[asyncio.Event] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        event.listen(factory, "after_commit", self._after_commit)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop("events_written", False):
            self.wake_threadsafe()

    def subscribe(self) -> asyncio.Event:
        waiter = asyncio.Event()
        self._waiters.add(waiter)
        return waiter

    def unsubscribe(self, waiter: asyncio.Event) -> None:
        self._waiters.discard(waiter)

    @property
    def subscribers(self) -> int:
        return len(self._waiters)

    def wake(self) -> None:
        for waiter in self._waiters:
            waiter.set()

    def wake_threadsafe(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.wake)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        runner = self._listen if self._engine.dialect.name == "postgresql" else self._poll
        self._task = asyncio.create_task(runner())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.wake()

    async def _poll(self) -> None:
        seen = await asyncio.to_thread(self._latest)
        while True:
            await asyncio.sleep(self._poll_seconds)
            if not self._waiters:
                continue  # nobody listening; a new stream reads the table itself first
            try:
                newest = await asyncio.to_thread(self._latest)
            except Exception:  # a locked or restarting database must not end live updates
                log.exception("event poll failed")
                continue
            if newest != seen:
                seen = newest
                self.wake()

    def _latest(self) -> int:
        with self._factory() as db:
            return latest_event_id(db)

    async def _listen(self) -> None:
        url = self._engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    # events committed while we were disconnected
                    self.wake()
                    async for _ in conn.notifies():
                        self.wake()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("LISTEN connection lost; reconnecting")
                await asyncio.sleep(1)
