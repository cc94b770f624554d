"""JSON API for invoices."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from sqlalchemy.orm import Session

from app.core.deps import DB, CurrentUser
from app.core.schemas import IdPath
from app.invoices import service
from app.invoices.schemas import InvoiceIn, InvoiceOut, InvoicePatch, LineIn, LineOut
from app.models import Invoice, invoice_totals, line_amount

router = APIRouter(tags=["invoices"])


def present(db: Session, invoice: Invoice) -> InvoiceOut:
    lines = service.lines_of(db, invoice.id)
    totals = invoice_totals(invoice, lines)
    return InvoiceOut(
        id=invoice.id,
        number=invoice.number,
        client_org_id=invoice.client_org_id,
        project_id=invoice.project_id,
        currency=invoice.currency,
        tax_rate=invoice.tax_rate,
        status=invoice.status,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        notes=invoice.notes,
        lines=[
            LineOut(
                position=li.position,
                description=li.description,
                quantity=li.quantity,
                unit_price=li.unit_price,
                amount=line_amount(li),
            )
            for li in lines
        ],  # fmt: skip
        **totals,
    )


def _lines(lines: list[LineIn] | None) -> list[service.LineInput] | None:
    if lines is None:
        return None
    return [service.LineInput(li.description, li.quantity, li.unit_price) for li in lines]


@router.get("/invoices", response_model=list[InvoiceOut])
def list_invoices(user: CurrentUser, db: DB) -> list[InvoiceOut]:
    return [present(db, i) for i in service.readable_invoices(db, user)]


@router.post("/invoices", response_model=InvoiceOut, status_code=201)
def create_invoice(body: InvoiceIn, user: CurrentUser, db: DB) -> InvoiceOut:
    invoice = service.create_invoice(
        db, user, body.project_id, body.client_org_id, body.currency, body.tax_rate,
        body.due_date, body.notes, _lines(body.lines) or [],
    )  # fmt: skip
    return present(db, invoice)


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut)
def get_invoice(invoice_id: IdPath, user: CurrentUser, db: DB) -> InvoiceOut:
    return present(db, service.visible_invoice(db, user, invoice_id))


@router.patch("/invoices/{invoice_id}", response_model=InvoiceOut)
def patch_invoice(invoice_id: IdPath, body: InvoicePatch, user: CurrentUser, db: DB) -> InvoiceOut:
    invoice = service.visible_invoice(db, user, invoice_id)
    service.update_draft(db, user, invoice, _lines(body.lines), body.notes, body.due_date)
    return present(db, invoice)


@router.post("/invoices/{invoice_id}/{step}", response_model=InvoiceOut)
def transition(
    invoice_id: IdPath, step: Literal["send", "pay", "void"], user: CurrentUser, db: DB
) -> InvoiceOut:
    invoice = service.visible_invoice(db, user, invoice_id)
    return present(db, service.transition(db, user, invoice, step))
