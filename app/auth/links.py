"""The one-time links mailed to people. Tokens ride in the query string, which no access log
records (the app's logs paths only; nginx's `main` format logs `$uri`), never in the path."""

from __future__ import annotations

from urllib.parse import urlencode

from app.core.settings import Settings


def invitation_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/invite?{urlencode({'token': token})}"


def reset_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}/reset-password?{urlencode({'token': token})}"
