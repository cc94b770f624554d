"""The published API contract: FastAPI's document plus what the app does around the handlers —
the session cookie and CSRF header as security schemes, the error answers every operation can
give (with the bodies the error handlers really send), and binary content where it is binary.

Which answers an operation can give follows from what it is: signed-in operations answer 401,
unsafe ones 403 (CSRF and Origin checks, the policy), operations with ids 404, operations with
a body 400 (an unparsable form or body), 413 (the body limit) and 422 (validation); routes
declare the rest (409, 415, 429, 507) themselves with `responses=`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.core.deps import CSRF_HEADER, cookie_name
from app.core.settings import Settings

# operations anyone may call (no session): everything else needs the session cookie
PUBLIC = {
    ("post", "/api/auth/login"),
    ("post", "/api/auth/password-reset"),
    ("post", "/api/auth/password-reset/confirm"),
    ("post", "/api/auth/invitations/accept"),
}
SAFE = {"get", "head", "options"}
# answers that come from the business rules of particular operations
SPECIFIC: dict[tuple[str, str], dict[str, str]] = {
    ("post", "/api/auth/login"): {
        "401": "Wrong email or password (the same answer for an unknown email)",
        "429": "Too many failed sign-ins from this network; Retry-After says when to try again",
    },
    ("post", "/api/auth/password-reset/confirm"): {
        "404": "The reset link is invalid, used or expired"
    },
    ("post", "/api/auth/invitations/accept"): {
        "404": "The invitation is invalid, used, revoked or expired",
        "409": "An account with this email exists already",
    },
    ("post", "/api/auth/invitations"): {
        "404": "No such client organisation or project",
        "409": "A user with this email exists already, or the project is another organisation's",
    },
    ("post", "/api/auth/password"): {"403": "The current password is wrong"},
    ("patch", "/api/users/{user_id}"): {"409": "Admins cannot demote or deactivate themselves"},
    ("post", "/api/orgs"): {"409": "An organisation with this name exists"},
    ("patch", "/api/invoices/{invoice_id}"): {"409": "Only draft invoices can be changed"},
    ("post", "/api/invoices/{invoice_id}/{step}"): {
        "409": "The invoice's status does not allow this step"
    },
    ("post", "/api/files/{file_id}/versions"): {
        "409": "Another version was uploaded at the same moment",
        "415": "The bytes are not of an accepted kind (the upload policy)",
        "507": "The project's storage quota would be exceeded",
    },
}
BINARY = {("get", "/api/versions/{version_id}/content")}
PROBLEM = {"$ref": "#/components/schemas/Problem"}
VALIDATION = {"$ref": "#/components/schemas/ValidationProblem"}
SCHEMAS = {
    "Problem": {
        "type": "object",
        "title": "Problem",
        "required": ["detail"],
        "properties": {
            "detail": {"type": "string", "description": "what is wrong and what to do"},
            "field": {"type": "string", "description": "the input it is about, when one is"},
        },
    },
    "ValidationProblem": {
        "type": "object",
        "title": "ValidationProblem",
        "required": ["detail"],
        "properties": {
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "message"],
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            }
        },
    },
}
DESCRIPTIONS = {
    "400": "Malformed request (an unparsable body)",
    "401": "Not signed in, or the session ended",
    "403": "Not allowed, or the CSRF token or Origin check failed",
    "404": "No such object, or not visible to the caller",
    "413": "The body is larger than the limit",
    "422": "The input is not valid (a list of field problems, or one problem with its field)",
}


def _problem(description: str, schema: dict[str, Any] = PROBLEM) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(path: str, method: str, op: dict[str, Any], settings: Settings) -> None:
    responses = op.setdefault("responses", {})
    for status, description in SPECIFIC.get((method, path), {}).items():
        responses.setdefault(status, _problem(description))
    if (method, path) in BINARY:
        binary = {"schema": {"type": "string", "format": "binary"}}
        kinds = sorted(settings.allowed_types | {"application/octet-stream"})
        responses["200"]["content"] = {kind: binary for kind in kinds}
    public = (method, path) in PUBLIC
    unsafe = method not in SAFE
    has_body = "requestBody" in op
    if public:
        op["security"] = []
    else:
        op["security"] = [{"session": [], "csrf": []}] if unsafe else [{"session": []}]
        responses.setdefault("401", _problem(DESCRIPTIONS["401"]))
    if unsafe or not public:
        responses.setdefault("403", _problem(DESCRIPTIONS["403"]))
    if "{" in path:
        responses.setdefault("404", _problem(DESCRIPTIONS["404"]))
    if has_body:
        responses.setdefault("400", _problem(DESCRIPTIONS["400"]))
        responses.setdefault("413", _problem(DESCRIPTIONS["413"]))
    if has_body or op.get("parameters"):
        responses["422"] = _problem(DESCRIPTIONS["422"], {"anyOf": [VALIDATION, PROBLEM]})
    else:
        responses.pop("422", None)
    for answer in responses.values():
        # a declared error answer without a body shape gets the Problem body every handler sends
        content = answer.get("content", {}).get("application/json")
        if content is not None and not content.get("schema"):
            content["schema"] = PROBLEM


def build(app: FastAPI, settings: Settings) -> dict[str, Any]:
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                         description="Sign in with POST /api/auth/login: the session cookie it "
                         "sets authenticates, and unsafe requests also send its csrf_token in "
                         f"the {CSRF_HEADER} header.")  # fmt: skip
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas.update(SCHEMAS)
    components["securitySchemes"] = {
        "session": {"type": "apiKey", "in": "cookie", "name": cookie_name(settings)},
        "csrf": {"type": "apiKey", "in": "header", "name": CSRF_HEADER},
    }
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                _operation(path, method, op, settings)
    return schema


def install(app: FastAPI, settings: Settings) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
