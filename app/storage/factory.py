"""The storage backend the settings ask for: local disk (default) or S3-compatible."""

from __future__ import annotations

from app.core.settings import Settings
from app.storage.base import Storage
from app.storage.local import LocalStorage


def storage_from_settings(settings: Settings) -> Storage:
    if settings.storage == "local":
        return LocalStorage(settings.storage_dir)
    # boto3 is imported only when the S3 backend is chosen
    from app.storage.s3 import S3Storage, StorageConfigError

    endpoint = settings.s3_endpoint
    if endpoint and not endpoint.startswith(("https://", "http://")):
        raise StorageConfigError(
            f"EYESHOTS_S3_ENDPOINT must be a URL such as https://{endpoint} (got {endpoint!r})"
        )
    if not settings.s3_bucket:
        raise StorageConfigError("EYESHOTS_S3_BUCKET is not set (needed with EYESHOTS_STORAGE=s3)")
    return S3Storage(
        bucket=settings.s3_bucket,
        prefix=settings.s3_prefix,
        endpoint_url=endpoint or None,
        region=settings.s3_region,
        access_key=_secret(settings, "s3_access_key", StorageConfigError),
        secret_key=_secret(settings, "s3_secret_key", StorageConfigError),
    )


def _secret(settings: Settings, field: str, fail: type[ValueError]) -> str:
    """The value, or the stripped contents of the file named by the _file variant."""
    variable = f"EYESHOTS_{field.upper()}"
    path = getattr(settings, f"{field}_file")
    if path is not None:
        try:
            value = path.read_text().strip()
        except OSError as problem:
            raise fail(f"{variable}_FILE={path} cannot be read: {problem.strerror}") from None
        if not value:
            raise fail(f"{variable}_FILE={path} is empty")
        return value
    value = getattr(settings, field)
    if not value:
        # never fall back to AWS_* variables or instance metadata: credentials are explicit
        raise fail(f"{variable} (or {variable}_FILE) is not set (needed with EYESHOTS_STORAGE=s3)")
    return value
