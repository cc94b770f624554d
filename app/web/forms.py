"""Parsing helpers for HTML form values (HTML forms send only strings)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from app.core.errors import Invalid


def optional_date(value: str, field: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid("Use a date like 2026-12-31", field=field) from None


def optional_fraction(value: str, field: str) -> float | None:
    if not value.strip():
        return None
    try:
        number = float(value)
    except ValueError:
        raise Invalid("Use a number between 0 and 1", field=field) from None
    if not 0 <= number <= 1:
        raise Invalid("Use a number between 0 and 1", field=field)
    return number


def decimal(value: str, field: str) -> Decimal:
    try:
        number = Decimal(value.strip().replace(",", "."))
    except InvalidOperation:
        raise Invalid("Enter a number", field=field) from None
    if not number.is_finite() or abs(number) > Decimal("100000000"):
        raise Invalid("Enter a reasonable number", field=field)
    return number
