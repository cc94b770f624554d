"""`eyeshots app …`: run the web platform, migrate its database, create the first admin."""

from __future__ import annotations

import getpass
import os
from typing import TYPE_CHECKING

import click

from app.core.settings import Settings, get_settings

if TYPE_CHECKING:
    from app.storage.base import Storage


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as error:  # pydantic's message names the variable and the problem
        raise click.ClickException(f"bad settings: {error}") from None


def _storage(settings: Settings) -> Storage:
    from app.storage.factory import storage_from_settings

    try:
        return storage_from_settings(settings)
    except (ValueError, OSError) as error:  # the message names the EYESHOTS_* variable
        raise click.ClickException(f"bad storage settings: {error}") from None


@click.group()
def cli() -> None:
    """The Eye Shots web platform (settings: EYESHOTS_* and DATABASE_URL, or a .env file)."""


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from app.core.db import make_engine
    from app.core.migrations import upgrade

    settings = _settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    click.echo(f"database at head: {engine.url.render_as_string(hide_password=True)}")


@cli.command("create-admin")
@click.option("--email", required=True, help="The admin's sign-in email.")
@click.option("--name", default="", help="Display name (defaults to the email).")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input, not a prompt."
)
def create_admin(email: str, name: str, password_stdin: bool) -> None:
    """Create an admin account (the first account of a new installation)."""
    from app.auth.service import AuthContext
    from app.auth.service import create_admin as make_admin
    from app.core.db import make_engine, make_sessionmaker
    from app.core.errors import AppError
    from app.core.migrations import upgrade
    from app.core.security import Passwords

    settings = _settings()
    if password_stdin:
        password = click.get_text_stream("stdin").readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise click.ClickException("the passwords differ; run the command again")
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)
    ctx = AuthContext(settings, Passwords(settings.argon2_time_cost, settings.argon2_memory_kib,
                                          settings.argon2_parallelism))  # fmt: skip
    with make_sessionmaker(engine).begin() as db:
        try:
            user = make_admin(db, ctx, email, name, password)
        except AppError as error:
            field = f"--{error.field}: " if error.field and error.field != "password" else ""
            raise click.ClickException(f"{field}{error.message}") from None
        click.echo(f"admin created: {user.email}")


@cli.command()
def cleanup() -> None:
    """Delete expired sessions, invitations, reset tokens and old sign-in failures (run daily)."""
    from app.auth.service import AuthContext, purge_expired
    from app.core.db import make_engine, make_sessionmaker
    from app.core.security import Passwords

    settings = _settings()
    engine = make_engine(settings.effective_database_url)
    ctx = AuthContext(settings, Passwords(1, 1024, 1))  # hashing is not used here
    with make_sessionmaker(engine).begin() as db:
        counts = purge_expired(db, ctx)
    click.echo("deleted: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@cli.command("send-mail")
def send_mail() -> None:
    """Send the mail that is due now (the app's processes do this every few seconds too)."""
    from app.core.db import make_engine, make_sessionmaker
    from app.mail.worker import drain

    settings = _settings()
    if not settings.smtp_host:
        raise click.ClickException("EYESHOTS_SMTP_HOST is not set: mail stays queued until it is")
    engine = make_engine(settings.effective_database_url)
    counts = drain(make_sessionmaker(engine), settings)
    click.echo(", ".join(f"{n} {what}" for what, n in counts.items()))


@cli.command("check-storage")
def check_storage() -> None:
    """Check the file storage the settings choose (S3: the bucket answers to these keys)."""
    storage = _storage(_settings())
    check = getattr(storage, "check", None)
    if check is not None:
        try:
            check()
        except ValueError as error:
            raise click.ClickException(f"storage not usable: {error}") from None
    where = getattr(storage, "location", None)
    click.echo(f"ok: {where() if where else storage.root}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--demo", is_flag=True, help="Load demo users and data into an empty database.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--migrate/--no-migrate",
    default=True,
    show_default=True,
    help="Upgrade the database first. Deploys migrate before the switch and pass --no-migrate, "
    "so an older release started beside (or after) a newer schema never touches it.",
)
@click.option(
    "--graceful-timeout",
    default=10,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds open requests (event streams) get to finish on SIGTERM.",
)
def serve(
    host: str, port: int, demo: bool, workers: int, migrate: bool, graceful_timeout: int
) -> None:
    """Run the app with uvicorn (embedded SQLite under EYESHOTS_DATA_DIR unless DATABASE_URL)."""
    import uvicorn

    from app.core.db import make_engine, make_sessionmaker
    from app.core.migrations import upgrade
    from app.web.serving import run

    settings = _settings()
    # a wrong storage setting is a one-line error now, not a traceback in every worker
    storage = _storage(settings)
    if host != "127.0.0.1" and host != "localhost" and not settings.cookie_secure:
        click.echo("warning: cookies are not Secure; put TLS in front of this", err=True)
    engine = make_engine(settings.effective_database_url)
    if migrate:
        upgrade(engine)
    if demo:
        from app.auth.service import AuthContext
        from app.core.security import Passwords
        from app.demo import DEMO_PASSWORD, load_demo

        ctx = AuthContext(settings, Passwords(settings.argon2_time_cost, settings.argon2_memory_kib,
                                              settings.argon2_parallelism))  # fmt: skip
        with make_sessionmaker(engine).begin() as db:
            logins = load_demo(db, ctx, storage)
        if logins:
            for email, role in logins:
                click.echo(f"demo login: {email} / {DEMO_PASSWORD} ({role.label})")
        else:
            click.echo("demo data skipped: the database already has users")
    engine.dispose()
    # the factory re-reads settings in each worker process: they must share one CSRF key
    os.environ.setdefault("EYESHOTS_DATA_DIR", str(settings.data_dir))
    if "EYESHOTS_SECRET_KEY" not in os.environ:
        click.echo("note: EYESHOTS_SECRET_KEY is not set; open forms break on restart", err=True)
        os.environ["EYESHOTS_SECRET_KEY"] = settings.secret_key
    run(
        uvicorn.Config(
            "app.main:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            timeout_graceful_shutdown=graceful_timeout,
            log_level="info",
            # uvicorn's access log prints query strings (one-time tokens); eyeshots.access does not
            access_log=False,
            log_config=_log_config(),
        )
    )


def _log_config() -> dict[str, object]:
    """uvicorn's logging plus the app's own loggers (eyeshots.access, eyeshots.mail, ...)."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["eyeshots"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
