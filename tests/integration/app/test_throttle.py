"""Sign-in throttling slows attackers without locking anyone out (issue 15, finding 3).

The numbers are printed (run with -s): attempts per hour an attacker gets against one account
from one address, and from a fresh address each try; the owner signs in throughout."""

from __future__ import annotations

from datetime import timedelta

from app_support.client import BASE, PASSWORD
from fastapi.testclient import TestClient

from app.auth import throttle
from app.models import LoginAttempt, utcnow

ATTACKER, OWNER, OFFICE = "203.0.113.9", "198.51.100.7", "192.0.2.44"
ATTACKER_NET = "203.0.113.0/24"


def _client(app, ip: str) -> TestClient:
    return TestClient(app, base_url=BASE, client=(ip, 40000))


def _login(client, email, password):
    return client.post("/api/auth/login", json={"email": email, "password": password})


def _age_failures(app, seconds: float) -> None:
    """Time passes for the throttle: every recorded failure moves into the past."""
    with app.state.sessionmaker.begin() as db:
        for attempt in db.query(LoginAttempt).all():
            attempt.at = attempt.at - timedelta(seconds=seconds)


def test_attacker_is_slowed_and_the_owner_still_signs_in(app, world):
    attacker, owner = _client(app, ATTACKER), _client(app, OWNER)
    failures, refusals = 0, 0
    while failures < 10:  # the attacker tries again as soon as each wait is over
        response = _login(attacker, "pm@studio.test", "guess guess guess")
        if response.status_code == 429:
            refusals += 1
            _age_failures(app, int(response.headers["retry-after"]))
            continue
        assert response.status_code == 401
        failures += 1
    assert refusals >= 6, "an attacker hammering one account is slowed"
    refused = _login(attacker, "pm@studio.test", "guess guess guess")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 60
    assert "try again in" in refused.json()["detail"]
    # the right password from the failing address waits too (no oracle), on the page as well
    assert _login(attacker, "pm@studio.test", PASSWORD).status_code == 429
    page = attacker.post("/sign-in", data={"email": "pm@studio.test", "password": PASSWORD})
    assert page.status_code == 429 and "retry-after" in page.headers
    # the owner from their own address is never refused
    assert _login(owner, "pm@studio.test", PASSWORD).status_code == 200
    # and the attacker's wait ends: nobody is locked out for good
    _age_failures(app, int(refused.headers["retry-after"]) + 1)
    assert _login(attacker, "pm@studio.test", PASSWORD).status_code == 200


def test_a_failing_office_address_delays_but_never_locks_its_users(app, world):
    office = _client(app, OFFICE)
    for n in range(40):  # someone behind the NAT sweeps accounts
        _age_failures(app, 3600)  # ... slowly enough to get every try in
        assert _login(office, f"nobody{n}@studio.test", "wrong wrong wrong").status_code == 401
    first = _login(office, "admin@studio.test", PASSWORD)
    assert first.status_code == 429
    assert int(first.headers["retry-after"]) <= app.state.settings.login_ip_max_delay_seconds
    _age_failures(app, app.state.settings.login_ip_max_delay_seconds)
    assert _login(office, "admin@studio.test", PASSWORD).status_code == 200


def _simulate(app, hours: float, fresh_network_each_try: bool) -> int:
    """Failed tries an attacker gets at one account in `hours`, trying as soon as allowed."""
    settings, now, tries = app.state.settings, utcnow(), 0
    end = now + timedelta(hours=hours)
    with app.state.sessionmaker.begin() as db:
        while now < end:
            ip = (
                f"10.{tries // 65536 % 256}.{tries // 256 % 256}.{tries % 256}"
                if fresh_network_each_try
                else ATTACKER
            )
            wait = throttle.wait_seconds(db, settings, "admin@studio.test", ip, now)
            if wait > 0:
                now += timedelta(seconds=wait)
                continue
            db.add(LoginAttempt(email="admin@studio.test", ip=ip, at=now))
            db.flush()
            tries += 1
            now += timedelta(seconds=0.5)  # an argon2 verification's time
        db.rollback()
    return tries


def test_numbers_attempts_per_hour_against_one_account(app, world):
    first_hour = _simulate(app, 1, fresh_network_each_try=False)
    day = _simulate(app, 24, fresh_network_each_try=False)
    distributed = _simulate(app, 1, fresh_network_each_try=True)
    s = app.state.settings
    print(f"\nthrottle: one address vs one account: {first_hour} tries in the first hour, "
          f"{day} in 24 h (steady state {3600 / s.login_max_delay_seconds:.0f}/h); "
          f"a fresh /24 network per try: {distributed} in an hour (one free try per network)")  # fmt: skip
    assert first_hour <= 20 and day <= 120
    # the owner, from an address with no failures, signs in right after all that
    assert _login(_client(app, OWNER), "admin@studio.test", PASSWORD).status_code == 200
