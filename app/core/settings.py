"""All settings of the web platform, read from the environment or an env file.

Every variable is `EYESHOTS_<NAME>` except `DATABASE_URL`, which keeps its conventional name.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "eyeshots"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EYESHOTS_", env_file=".env", env_ignore_empty=True, extra="ignore"
    )

    # sqlite:///path or postgresql+psycopg://user@host/db; default is an embedded SQLite file
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_URL", "EYESHOTS_DATABASE_URL"),
    )
    data_dir: Path = DEFAULT_DATA_DIR
    # signs CSRF tokens; generated per process when unset, which logs everyone out on restart
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    # the public origin, used in invitation/reset links and the CSRF Origin check
    base_url: str = "http://127.0.0.1:8000"
    cookie_secure: bool = True
    session_days: int = 14
    invitation_days: int = 7
    reset_minutes: int = 60
    # sign-in throttling (app/auth/throttle.py): failures an account or an address may have
    # before each further try waits, the first wait (doubling per failure), the longest wait,
    # and how long a failure counts
    login_free_failures: int = 3
    login_ip_free_failures: int = 10
    login_first_delay_seconds: float = 1.0
    login_max_delay_seconds: float = 900.0
    login_ip_max_delay_seconds: float = 60.0
    login_window_seconds: int = 86400
    max_body_bytes: int = 2 * 1024 * 1024
    # argon2id cost; the defaults are RFC 9106's low-memory profile, tests lower them
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    argon2_parallelism: int = 4
    # --- outgoing mail (app/mail): without a host mail stays queued, visible to admins ---
    smtp_host: str = ""
    smtp_port: int = 587
    # starttls (submission, 587), tls (implicit TLS, 465) or none (a local relay only)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_password_file: Path | None = None
    # CA certificates to trust instead of the system's (a private relay)
    smtp_ca_file: Path | None = None
    smtp_timeout_seconds: float = 20.0
    # From: header; default "Eye Shots <noreply@HOST>" with the host of base_url
    mail_from: str = ""
    # how often each app process looks for mail that is due
    mail_poll_seconds: float = 5.0
    # optional single sign-on through an OpenID Connect provider (Keycloak, Authentik, ...)
    oidc_discovery_url: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_label: str = "Sign in with single sign-on"
    # seconds between checks for new events when no LISTEN/NOTIFY is available (SQLite)
    event_poll_seconds: float = 0.5
    # where file bytes live: "local" (files_dir, default data_dir/files) or "s3" (the s3_* below;
    # a *_file variant names a file holding the secret, e.g. a systemd credential)
    storage: Literal["local", "s3"] = "local"
    files_dir: Path | None = None
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_bucket: str = ""
    s3_prefix: str = ""
    s3_access_key: str = ""
    s3_access_key_file: Path | None = None
    s3_secret_key: str = ""
    s3_secret_key_file: Path | None = None
    # --- the file service (app/files) ---
    # "kid:base64secret,kid2:..." -- the first key signs, all verify (rotation); or a file of it
    file_token_keys: str = ""
    file_token_keys_file: Path | None = None
    file_token_seconds: int = 900
    # the public path prefix nginx proxies to the file service, and its internal location
    files_prefix: str = "/transfer/"
    files_internal_prefix: str = "/_protected/"
    files_max_upload_bytes: int = 20 * 1024**3
    # bytes of all versions of one project; 0 means no quota
    files_project_quota_bytes: int = 0
    # resumable uploads untouched this long are removed by `eyeshots files cleanup`
    files_upload_expiry_hours: int = 24
    # the kinds a sniff of the first bytes must find (app/files/sniff.py names them)
    files_allowed_types: str = (
        "image/jpeg,image/png,image/gif,image/webp,image/tiff,video/mp4,video/quicktime,"
        "video/webm,video/x-matroska,application/pdf,application/zip,audio/mpeg,audio/wav"
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        # the common postgres:// spelling means psycopg 3 here
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        if value and not value.startswith(("sqlite", "postgresql+psycopg")):
            raise ValueError(
                "DATABASE_URL must start with sqlite:/// or postgresql:// (got an unknown scheme)"
            )
        return value

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_discovery_url and self.oidc_client_id)

    @property
    def sender(self) -> str:
        host = urlsplit(self.base_url).hostname or "localhost"
        return self.mail_from or f"Eye Shots <noreply@{host}>"

    @property
    def smtp_secret(self) -> str:
        if self.smtp_password_file is not None:
            return self.smtp_password_file.read_text().strip()
        return self.smtp_password

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'eyeshots.db'}"

    @property
    def storage_dir(self) -> Path:
        return self.files_dir or self.data_dir / "files"

    @property
    def allowed_types(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.files_allowed_types.split(",") if t.strip())


@lru_cache
def get_settings() -> Settings:
    return Settings()
