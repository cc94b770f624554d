"""Repository locations as restic spells them, plus a few explicit forms.

  /path, local:/path                      local directory
  s3:https://host[:port]/bucket[/prefix]  S3-compatible (s3:host/bucket/prefix means https)
  sftp:user@host:/path                    SFTP on port 22
  sftp://user@host[:port]/path            SFTP on any port
Credentials come from the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION for S3; EYESHOTS_BACKUP_SFTP_KEY and EYESHOTS_BACKUP_SFTP_KNOWN_HOSTS
for SFTP (else the user's ~/.ssh defaults).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from backup.backends.base import Backend
from backup.backends.local import LocalBackend
from backup.backends.retry import RetryingBackend


class LocationError(ValueError):
    pass


def open_backend(
    url: str, env: Mapping[str, str] | None = None, attempts: int = 6, base_delay: float = 0.5
) -> Backend:
    env = os.environ if env is None else env
    if url.startswith("s3:"):
        from backup.backends import s3

        rest = url[3:]
        if not re.match(r"^https?://", rest):
            rest = "https://" + rest
        parts = urlsplit(rest)
        path = parts.path.strip("/").split("/", 1)
        if not parts.netloc or not path[0]:
            raise LocationError(f"{url}: expected s3:https://host/bucket[/prefix]")
        if not env.get("AWS_ACCESS_KEY_ID") or not env.get("AWS_SECRET_ACCESS_KEY"):
            # explicit keys only: boto3's fallback chain would probe cloud metadata endpoints
            raise LocationError(
                f"{url}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for S3 access"
            )
        backend = s3.S3Backend(
            f"{parts.scheme}://{parts.netloc}",
            path[0],
            path[1] if len(path) > 1 else "",
            region=env.get("AWS_DEFAULT_REGION"),
            access_key=env.get("AWS_ACCESS_KEY_ID"),
            secret_key=env.get("AWS_SECRET_ACCESS_KEY"),
        )
        return RetryingBackend(backend, s3.transient, attempts, base_delay)
    if url.startswith("sftp:"):
        from backup.backends import sftp

        if url.startswith("sftp://"):
            parts = urlsplit(url)
            if not parts.hostname or not parts.path:
                raise LocationError(f"{url}: expected sftp://user@host[:port]/path")
            user, host, port, path = parts.username, parts.hostname, parts.port or 22, parts.path
        else:
            m = re.match(r"^sftp:(?:([^@]+)@)?([^:/]+):(.+)$", url)
            if not m:
                raise LocationError(f"{url}: expected sftp:user@host:/path")
            user, host, path = m.groups()
            port = 22
        backend = sftp.SFTPBackend(
            host,
            path,
            user=user,
            port=port,
            key_file=env.get("EYESHOTS_BACKUP_SFTP_KEY") or None,
            known_hosts=env.get("EYESHOTS_BACKUP_SFTP_KNOWN_HOSTS") or None,
        )
        return RetryingBackend(backend, sftp.transient, attempts, base_delay)
    if url.startswith("local:"):
        url = url[6:]
    if re.match(r"^[a-z0-9]+:", url) and not url.startswith(("/", ".")):
        raise LocationError(f"{url}: unknown backend (use a path, s3:..., or sftp:...)")
    return LocalBackend(url)
