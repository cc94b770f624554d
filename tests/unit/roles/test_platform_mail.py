"""The inventory's mail settings reach the app: roles/platform renders them into app.env, and
the app's Settings read that file back as the SMTP configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.core.settings import Settings
from provision.hostvars import defaults
from provision.templates import render


def _app_env(tmp_path: Path, **overrides: Any) -> Settings:
    values = defaults(overrides, name="unitcheck").variables
    env = tmp_path / "app.env"
    env.write_text(render("platform", "app.env.j2", values))
    return Settings(_env_file=env)


def test_no_mail_host_by_default_so_mail_stays_queued(tmp_path, monkeypatch):
    monkeypatch.delenv("EYESHOTS_SMTP_HOST", raising=False)
    assert _app_env(tmp_path).smtp_host == ""


def test_inventory_mail_settings_reach_the_app(tmp_path):
    settings = _app_env(tmp_path, platform_smtp_host="smtp.example.net", platform_smtp_port=465,
                        platform_smtp_security="tls", platform_smtp_username="studio",
                        platform_mail_from="Studio <hi@example.net>")  # fmt: skip
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == (
        "smtp.example.net",
        465,
        "tls",
    )
    assert settings.smtp_username == "studio" and settings.sender == "Studio <hi@example.net>"
    assert settings.smtp_password_file == Path("/etc/eyeshots/smtp-password")
