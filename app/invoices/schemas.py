from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from app.core.schemas import DbId
from app.models import InvoiceStatus


class LineIn(BaseModel):
    description: str = Field(min_length=1, max_length=500)
    quantity: Decimal = Field(gt=0, le=Decimal("1000000"), decimal_places=3)
    unit_price: Decimal = Field(ge=0, le=Decimal("100000000"), decimal_places=2)


class InvoiceIn(BaseModel):
    project_id: DbId | None = None
    client_org_id: DbId | None = None
    currency: str = Field(default="EUR", min_length=3, max_length=3, pattern="^[A-Za-z]{3}$")
    tax_rate: Decimal = Field(default=Decimal("0"), ge=0, le=100, decimal_places=2)
    due_date: date | None = None
    notes: str = Field(default="", max_length=5000)
    lines: list[LineIn] = Field(default_factory=list, max_length=200)


class InvoicePatch(BaseModel):
    due_date: date | None = None
    notes: str | None = Field(default=None, max_length=5000)
    lines: list[LineIn] | None = Field(default=None, max_length=200)


class LineOut(BaseModel):
    position: int
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class InvoiceOut(BaseModel):
    id: int
    number: str
    client_org_id: DbId
    project_id: DbId | None
    currency: str
    tax_rate: Decimal
    status: InvoiceStatus
    issue_date: date | None
    due_date: date | None
    notes: str
    lines: list[LineOut]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
