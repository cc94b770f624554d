"""A minimal OpenID Connect provider for tests: discovery, authorize (auto-consent), token with
PKCE check, JWKS, RS256 ID tokens. Real protocol on loopback; no Debian package provides an
IdP that starts in a test in seconds, so this stands in for Keycloak & co."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey


def make_idp(client_id: str, client_secret: str) -> FastAPI:
    idp = FastAPI()
    key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
    idp.state.identity: dict[str, Any] = {}
    idp.state.issuer = ""
    codes: dict[str, dict[str, Any]] = {}

    @idp.get("/.well-known/openid-configuration")
    def discovery(request: Request) -> JSONResponse:
        base = idp.state.issuer
        return JSONResponse({
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        })  # fmt: skip

    @idp.get("/jwks")
    def jwks() -> JSONResponse:
        return JSONResponse({"keys": [key.as_dict(private=False)]})

    @idp.get("/authorize")
    def authorize(request: Request) -> RedirectResponse:
        q = request.query_params
        if q.get("client_id") != client_id or q.get("code_challenge_method") != "S256":
            raise HTTPException(400, "bad authorization request")
        code = secrets.token_urlsafe(16)
        codes[code] = {"nonce": q.get("nonce"), "challenge": q["code_challenge"],
                       "redirect_uri": q["redirect_uri"], "identity": dict(idp.state.identity)}  # fmt: skip
        return RedirectResponse(
            f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
        )

    @idp.post("/token")
    def token(
        request: Request,
        code: str = Form(),
        code_verifier: str = Form(),
        redirect_uri: str = Form(),
    ) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        expected = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        grant = codes.pop(code, None)
        if auth != expected or grant is None or grant["redirect_uri"] != redirect_uri:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(
            b"="
        )
        if digest.decode() != grant["challenge"]:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "PKCE"}, status_code=400
            )
        now = int(time.time())
        claims = {"iss": idp.state.issuer, "aud": client_id, "iat": now, "exp": now + 300,
                  "nonce": grant["nonce"], **grant["identity"]}  # fmt: skip
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key)
        return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                             "expires_in": 300, "id_token": id_token})  # fmt: skip

    return idp
