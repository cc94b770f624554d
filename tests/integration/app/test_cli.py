"""`eyeshots app create-admin` and `eyeshots app serve`, run as the operator would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

EYESHOTS = str(Path(sys.executable).parent / "eyeshots")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("EYESHOTS_") and k != "DATABASE_URL"
    }
    env.update(EYESHOTS_DATA_DIR=str(tmp_path / "data"), EYESHOTS_ARGON2_MEMORY_KIB="1024",
               EYESHOTS_ARGON2_TIME_COST="1", EYESHOTS_ARGON2_PARALLELISM="1", **extra)  # fmt: skip
    return env


def test_create_admin_then_sign_in(tmp_path):
    env = _env(tmp_path)
    made = subprocess.run([EYESHOTS, "app", "create-admin", "--email", "Boss@Studio.test", "--password-stdin"],
                          input="a long enough password\n", env=env, capture_output=True, text=True)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "admin created: boss@studio.test" in made.stdout
    again = subprocess.run([EYESHOTS, "app", "create-admin", "--email", "boss@studio.test", "--password-stdin"],
                           input="a long enough password\n", env=env, capture_output=True, text=True)  # fmt: skip
    assert again.returncode != 0 and "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--email", "not-an-email"], "a long enough password\n", "valid email"),
        (["--email", "ok@studio.test"], "short\n", "at least 10 characters"),
    ],
)
def test_create_admin_rejects_bad_input_in_one_line(tmp_path, args, stdin, message):
    result = subprocess.run([EYESHOTS, "app", "create-admin", *args, "--password-stdin"], input=stdin,
                            env=_env(tmp_path), capture_output=True, text=True)  # fmt: skip
    assert result.returncode != 0
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_bad_database_url_is_named(tmp_path):
    result = subprocess.run([EYESHOTS, "app", "migrate"], env=_env(tmp_path, DATABASE_URL="mysql://x/y"),
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode != 0 and "DATABASE_URL" in result.stderr


def test_serve_with_demo_data(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = _env(
        tmp_path, EYESHOTS_COOKIE_SECURE="false", EYESHOTS_BASE_URL=f"http://127.0.0.1:{port}"
    )
    # two workers without a configured secret: both must still accept each other's CSRF tokens
    server = subprocess.Popen([EYESHOTS, "app", "serve", "--demo", "--port", str(port), "--workers", "2"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.ConnectError:
                pass
            assert server.poll() is None, server.stdout.read()
            assert time.monotonic() < deadline, "server did not become ready"
            time.sleep(0.1)
        with httpx.Client(base_url=base) as client:
            login = client.post(
                "/api/auth/login", json={"email": "client@demo.test", "password": "eyeshots-demo"}
            )
            assert login.status_code == 200
            projects = client.get("/api/projects").json()
            assert [p["name"] for p in projects] == ["Spring campaign"]
            assert (tmp_path / "data" / "eyeshots.db").exists()
            csrf = login.json()["csrf_token"]
            for _ in range(10):  # connections land on either worker
                with httpx.Client(base_url=base, cookies=client.cookies) as fresh:
                    posted = fresh.post(f"/api/versions/{1}/comments", json={"body": "ok"},
                                        headers={"X-CSRF-Token": csrf})  # fmt: skip
                    assert posted.status_code == 201, posted.text
    finally:
        server.terminate()
        server.wait(timeout=20)
