"""Refusals of the file service: an HTTP status and a message that says what to do."""

from __future__ import annotations


class Refused(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def denied() -> Refused:
    # one message for forged, expired and wrongly scoped tokens: nothing to learn from it
    return Refused(
        403, "this link is not valid (expired or not yours); reload the page for a new one"
    )


def too_large(limit: int) -> Refused:
    return Refused(413, f"the file is larger than the upload limit of {limit} bytes")


def over_quota(quota: int) -> Refused:
    return Refused(507, f"the project's storage quota of {quota} bytes would be exceeded; "
                        "delete old versions or ask an admin to raise the quota")  # fmt: skip


def disk_full() -> Refused:
    return Refused(507, "the server's storage is full; nothing was saved, try again later")
