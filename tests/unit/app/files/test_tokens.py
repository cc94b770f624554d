"""File tokens: signed with the first key, verified by any, refused when touched or late."""

from __future__ import annotations

import base64

import pytest

from app.core.file_tokens import KeyRing, KeyRingError, TokenError, check, issue

SECRET_A = base64.b64encode(b"a" * 32).decode()
SECRET_B = base64.urlsafe_b64encode(b"b" * 32).decode().rstrip("=")


def ring(spec: str) -> KeyRing:
    return KeyRing.parse(spec)


def test_round_trip_and_rotation():
    old = ring(f"k1:{SECRET_A}")
    token = issue(old, "upload", 1, 2, 3, None, 60)
    rotated = ring(f"k2:{SECRET_B},k1:{SECRET_A}")
    grant = check(rotated, token)
    assert (grant.action, grant.user_id, grant.project_id, grant.file_id) == ("upload", 1, 2, 3)
    assert check(rotated, issue(rotated, "view", 1, 2, 3, 4, 60)).version_id == 4
    with pytest.raises(TokenError, match="unknown key id"):
        check(old, issue(rotated, "view", 1, 2, 3, 4, 60))


def test_forged_and_expired_tokens_are_refused():
    keys = ring(f"k1:{SECRET_A}")
    token = issue(keys, "download", 1, 2, 3, 4, 60)
    prefix, kid, body, mac = token.split(".")
    other_body = issue(keys, "download", 9, 2, 3, 4, 60).split(".")[2]
    for forged in (f"{prefix}.{kid}.{other_body}.{mac}", token[:-2] + "AA", "garbage",
                   issue(ring(f"k1:{SECRET_B}"), "download", 1, 2, 3, 4, 60)):  # fmt: skip
        with pytest.raises(TokenError):
            check(keys, forged)
    with pytest.raises(TokenError, match="expired"):
        check(keys, issue(keys, "download", 1, 2, 3, 4, -1))


@pytest.mark.parametrize(
    "spec, message",
    [("", "no file token keys"), ("nocolon", "kid:base64secret"), ("k1:!!!", "not base64"),
     ("k1:c2hvcnQ=", "at least 16 bytes"), ("bad kid:" + SECRET_A, "kid:base64secret")],
)  # fmt: skip
def test_bad_key_rings_say_what_is_wrong(spec, message):
    with pytest.raises(KeyRingError, match=message):
        KeyRing.parse(spec)


def test_key_file_accepts_the_environment_file_line(tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"EYESHOTS_FILE_TOKEN_KEYS=k1:{SECRET_A}\n")
    assert KeyRing.from_settings("", path).keys[0][0] == "k1"
    with pytest.raises(KeyRingError, match="cannot read"):
        KeyRing.from_settings("", tmp_path / "missing")
