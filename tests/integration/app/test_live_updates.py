"""Server-Sent Events: two app processes' worth of brokers on one database (LISTEN/NOTIFY on
PostgreSQL, polling on SQLite), and Last-Event-ID replay after a reconnect."""

from __future__ import annotations

import json
import queue
import threading
import time

import httpx
import pytest
from app_support.client import make_app, session_for
from app_support.server import serving
from app_support.world import build_world

from app.core.deps import cookie_name
from app.core.security import hash_token

DEADLINE = 15


def _session(app, user_id: int) -> str:
    return session_for(app, user_id)[0]


class Listener:
    """Reads an event stream in a thread and hands parsed events to the test."""

    def __init__(
        self, url: str, cookies: dict[str, str], headers: dict[str, str] | None = None
    ) -> None:
        self.events: queue.Queue[dict] = queue.Queue()
        self.status: queue.Queue[int] = queue.Queue()
        self._client = httpx.Client(cookies=cookies, timeout=httpx.Timeout(30, read=60))
        self._url, self._headers = url, headers or {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self._url, headers=self._headers) as response:
                self.status.put(response.status_code)
                event: dict = {}
                for line in response.iter_lines():
                    if line.startswith("id: "):
                        event["id"] = int(line[4:])
                    elif line.startswith("data: "):
                        event["data"] = json.loads(line[6:])
                    elif line == "" and "data" in event:
                        self.events.put(event)
                        event = {}
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the test

    def next(self) -> dict:
        return self.events.get(timeout=DEADLINE)

    def close(self) -> None:
        self._client.close()


@pytest.fixture
def two_apps(engine, migrated_url, tmp_path):
    # two independent apps = two brokers, as two uvicorn workers would have
    first = make_app(migrated_url, tmp_path / "a", cookie_secure=False)
    second = make_app(migrated_url, tmp_path / "b", cookie_secure=False)
    with serving(first) as url_a, serving(second) as url_b:
        yield first, url_a, second, url_b


def test_an_event_written_through_one_process_reaches_a_stream_on_another(two_apps):
    first, url_a, second, url_b = two_apps
    world = build_world(first)
    name = cookie_name(first.state.settings)
    client_cookie = {name: _session(second, world.users["client"])}
    listener = Listener(f"{url_b}/api/projects/{world.project}/events", client_cookie)
    try:
        assert listener.status.get(timeout=DEADLINE) == 200
        creative = httpx.Client(
            base_url=url_a, cookies={name: _session(first, world.users["creative"])}
        )
        login = creative.get("/api/auth/me")
        assert login.status_code == 200
        from app.core.security import csrf_token

        csrf = csrf_token(first.state.settings.secret_key, hash_token(creative.cookies[name]))
        # an internal comment first: the client must never receive it
        internal = creative.post(f"/api/versions/{world.version}/comments",
                                 json={"body": "studio only", "visibility": "internal"},
                                 headers={"X-CSRF-Token": csrf})  # fmt: skip
        public = creative.post(f"/api/versions/{world.version}/comments",
                               json={"body": "new cut is up", "t_start": 4.2},
                               headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert internal.status_code == public.status_code == 201
        started = time.monotonic()
        event = listener.next()
        assert event["data"]["kind"] == "comment.created"
        assert event["data"]["payload"]["comment_id"] == public.json()["id"]
        assert time.monotonic() - started < 5
    finally:
        listener.close()


def test_last_event_id_replays_what_a_reconnecting_client_missed(two_apps):
    first, url_a, _, _ = two_apps
    world = build_world(first)
    name = cookie_name(first.state.settings)
    cookie = {name: _session(first, world.users["pm"])}
    # everything so far, from the start: the world's own events
    listener = Listener(f"{url_a}/api/projects/{world.project}/events?after=0", cookie)
    try:
        seen = [listener.next() for _ in range(3)]
    finally:
        listener.close()
    ids = [e["id"] for e in seen]
    assert ids == sorted(ids)
    # reconnect saying "I have seen up to the first one": the second and third come again
    again = Listener(f"{url_a}/api/projects/{world.project}/events",
                     cookie, headers={"Last-Event-ID": str(ids[0])})  # fmt: skip
    try:
        assert [again.next()["id"] for _ in range(2)] == ids[1:]
    finally:
        again.close()


def test_a_stream_is_refused_to_users_who_cannot_see_the_project(two_apps):
    first, url_a, _, _ = two_apps
    world = build_world(first)
    name = cookie_name(first.state.settings)
    outsider = httpx.get(f"{url_a}/api/projects/{world.project}/events",
                         cookies={name: _session(first, world.users["other_client"])})  # fmt: skip
    assert outsider.status_code == 404
    assert httpx.get(f"{url_a}/api/projects/{world.project}/events").status_code == 401
