"""`eyeshots files …`: run the file service, verify stored files, expire abandoned uploads."""

from __future__ import annotations

import logging

import click

# the same one-line "bad settings: ..." error as `eyeshots app`
from app.cli import _settings


@click.group()
def cli() -> None:
    """The file service (settings: EYESHOTS_* and DATABASE_URL, see app/README.md)."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8200, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Serve uploads and downloads (behind nginx, which sends the download bytes)."""
    import uvicorn

    from app.core.file_tokens import KeyRingError
    from app.files.main import create_app

    settings = _settings()
    try:
        app = create_app(settings)
    except KeyRingError as error:
        raise click.ClickException(str(error)) from None
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    # uvicorn's own access log prints query strings (download tokens): ours does not
    uvicorn.run(app, host=host, port=port, access_log=False, proxy_headers=True,
                forwarded_allow_ips="127.0.0.1", timeout_graceful_shutdown=25)  # fmt: skip


@cli.command()
def verify() -> None:
    """Re-hash every stored version; report missing, damaged and orphaned files (exit 1 if any)."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.core.db import make_engine, make_sessionmaker
    from app.files.verify import verify as run
    from app.storage.factory import storage_from_settings

    settings = _settings()
    engine = make_engine(settings.effective_database_url)
    problems = 0
    try:
        with make_sessionmaker(engine)() as db:
            for problem in run(db, storage_from_settings(settings)):
                click.echo(str(problem))
                problems += 1
    except SQLAlchemyError as error:
        reason = str(error.orig if hasattr(error, "orig") else error).splitlines()[0]
        raise click.ClickException(
            f"cannot read the database ({reason}); check DATABASE_URL"
        ) from None
    finally:
        engine.dispose()
    if problems:
        raise click.ClickException(f"{problems} problem(s) found")
    click.echo("all stored files match their recorded sha256; no orphans")


@cli.command()
def cleanup() -> None:
    """Remove resumable uploads abandoned past EYESHOTS_FILES_UPLOAD_EXPIRY_HOURS (hourly timer)."""
    import time

    from app.files.uploads import UploadStore

    settings = _settings()
    expiry = settings.files_upload_expiry_hours * 3600
    store = UploadStore(settings.storage_dir / "uploads", expiry)
    removed = store.expire()
    # bodies of single uploads killed mid-way (a crash: normal failures remove their own)
    stale = 0
    temp = settings.storage_dir / "tmp"
    if temp.is_dir():
        for part in temp.glob("*.part"):
            if part.stat().st_mtime + expiry < time.time():
                part.unlink(missing_ok=True)
                stale += 1
    click.echo(f"removed {len(removed)} expired upload(s), {stale} stale temporary file(s)")
