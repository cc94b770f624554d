"""Pages every site has whoever is signed in: the icon browsers ask for at /favicon.ico."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

router = APIRouter()

ICON = Path(__file__).resolve().parent.parent / "static" / "favicon.ico"


@router.get("/favicon.ico")
def favicon() -> FileResponse:
    return FileResponse(
        ICON, media_type="image/x-icon", headers={"Cache-Control": "public, max-age=86400"}
    )
