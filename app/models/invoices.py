"""Invoices to client organisations; totals are derived from the lines, never stored."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, UTCDateTime, utcnow
from app.models.identity import enum_column


class InvoiceStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    PAID = "paid"
    VOID = "void"


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name="tax_rate_percent"),
        CheckConstraint("length(currency) = 3", name="currency_iso"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client_org_id: Mapped[int] = mapped_column(
        ForeignKey("client_orgs.id", ondelete="RESTRICT"), index=True
    )
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True
    )
    number: Mapped[str] = mapped_column(String(40), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    # percent, e.g. 19.00
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    status: Mapped[InvoiceStatus] = mapped_column(
        enum_column(InvoiceStatus, "invoice_status"), default=InvoiceStatus.DRAFT
    )
    issue_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(500))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(14, 2))


CENT = Decimal("0.01")


def line_amount(line: InvoiceLine) -> Decimal:
    return (Decimal(line.quantity) * Decimal(line.unit_price)).quantize(CENT, ROUND_HALF_UP)


def invoice_totals(invoice: Invoice, lines: list[InvoiceLine]) -> dict[str, Decimal]:
    subtotal = sum((line_amount(line) for line in lines), Decimal("0.00"))
    tax = (subtotal * Decimal(invoice.tax_rate) / 100).quantize(CENT, ROUND_HALF_UP)
    return {"subtotal": subtotal, "tax": tax, "total": subtotal + tax}
