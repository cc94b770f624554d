"""Choosing the backend from settings; S3 credentials must be explicit."""

from __future__ import annotations

import pytest

from app.core.settings import Settings
from app.storage.factory import storage_from_settings
from app.storage.local import LocalStorage
from app.storage.s3 import S3Storage, StorageConfigError

S3 = {"storage": "s3", "s3_bucket": "files", "s3_endpoint": "http://127.0.0.1:9"}


@pytest.fixture(autouse=True)
def ambient_aws_credentials(monkeypatch):
    # what a host might have lying around; none of it may be picked up
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ambient-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "ambient-secret")
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")


def test_local_is_the_default_under_the_data_dir(tmp_path):
    storage = storage_from_settings(Settings(data_dir=tmp_path))
    assert isinstance(storage, LocalStorage) and storage.root == tmp_path / "files"


def test_files_dir_moves_local_storage(tmp_path, monkeypatch):
    monkeypatch.setenv("EYESHOTS_FILES_DIR", str(tmp_path / "srv"))
    storage = storage_from_settings(Settings(data_dir=tmp_path / "data"))
    assert storage.root == tmp_path / "srv" and (tmp_path / "srv" / "tmp").is_dir()


def test_s3_from_environment(monkeypatch):
    for name, value in {
        "EYESHOTS_STORAGE": "s3",
        "EYESHOTS_S3_ENDPOINT": "http://127.0.0.1:9000",
        "EYESHOTS_S3_REGION": "eu-central-2",
        "EYESHOTS_S3_BUCKET": "studio",
        "EYESHOTS_S3_PREFIX": "/prod/files/",
        "EYESHOTS_S3_ACCESS_KEY": "explicit-key",
        "EYESHOTS_S3_SECRET_KEY": "explicit-secret",
    }.items():
        monkeypatch.setenv(name, value)
    storage = storage_from_settings(Settings())
    assert isinstance(storage, S3Storage)
    assert storage.location() == "s3://studio/prod/files"
    assert storage.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert storage.client.meta.region_name == "eu-central-2"
    credentials = storage.client._request_signer._credentials  # no public accessor
    assert (credentials.access_key, credentials.secret_key) == ("explicit-key", "explicit-secret")


def test_secrets_from_files(tmp_path):
    (tmp_path / "access").write_text("file-key\n")
    (tmp_path / "secret").write_text("file-secret\n")
    settings = Settings(**S3, s3_access_key_file=tmp_path / "access",
                        s3_secret_key_file=tmp_path / "secret")  # fmt: skip
    credentials = storage_from_settings(settings).client._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key) == ("file-key", "file-secret")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({**S3, "s3_secret_key": "s"}, r"^EYESHOTS_S3_ACCESS_KEY \(or EYESHOTS_S3_ACCESS_KEY_FILE\) is not set"),
        ({**S3, "s3_access_key": "k"}, r"^EYESHOTS_S3_SECRET_KEY \(or EYESHOTS_S3_SECRET_KEY_FILE\) is not set"),
        ({**S3, "s3_bucket": "", "s3_access_key": "k", "s3_secret_key": "s"}, r"^EYESHOTS_S3_BUCKET is not set"),
        ({**S3, "s3_endpoint": "eu2.contabostorage.com", "s3_access_key": "k", "s3_secret_key": "s"},
         r"^EYESHOTS_S3_ENDPOINT must be a URL such as https://eu2.contabostorage.com"),
        ({**S3, "s3_access_key_file": "/nonexistent/key", "s3_secret_key": "s"},
         r"^EYESHOTS_S3_ACCESS_KEY_FILE=/nonexistent/key cannot be read: No such file"),
    ],
)  # fmt: skip
def test_missing_s3_settings_are_one_line_errors(settings, message):
    with pytest.raises(StorageConfigError, match=message) as caught:
        storage_from_settings(Settings(**settings))
    assert "\n" not in str(caught.value)


def test_s3_storage_itself_demands_explicit_keys():
    with pytest.raises(StorageConfigError, match="explicit access key and secret key"):
        S3Storage("files", endpoint_url="http://127.0.0.1:9")


def test_unknown_backend_is_refused(monkeypatch):
    monkeypatch.setenv("EYESHOTS_STORAGE", "ftp")
    with pytest.raises(ValueError, match="storage"):
        Settings()
