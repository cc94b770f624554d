"""Invoices: drafts are editable; sending freezes them; totals are always computed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.authz.check import Target, allowed, invoice_filter
from app.authz.guard import project_target, require
from app.authz.policy import Action, scope_of
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.events import service as events
from app.models import (
    Audience,
    ClientOrg,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Project,
    User,
    utcnow,
)


@dataclass(frozen=True)
class LineInput:
    description: str
    quantity: Decimal
    unit_price: Decimal


def invoice_target(invoice: Invoice) -> Target:
    return Target(
        project_id=invoice.project_id,
        client_org_id=invoice.client_org_id,
        invoice_status=invoice.status,
    )


def readable_invoices(db: Session, user: User) -> list[Invoice]:
    """Roles without any invoice access get 403 rather than a misleading empty list."""
    if scope_of(user.role, Action.INVOICE_READ) is None:
        raise Forbidden("Invoices are not available to your role")
    stmt = select(Invoice).where(invoice_filter(user)).order_by(Invoice.id.desc())
    return list(db.scalars(stmt))


def visible_invoice(db: Session, user: User, invoice_id: int) -> Invoice:
    invoice = db.get(Invoice, invoice_id)
    if invoice is None or not allowed(db, user, Action.INVOICE_READ, invoice_target(invoice)):
        raise NotFound("No such invoice")
    return invoice


def lines_of(db: Session, invoice_id: int) -> list[InvoiceLine]:
    stmt = (
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.position)
    )
    return list(db.scalars(stmt))


def _check_lines(lines: list[LineInput]) -> None:
    for index, line in enumerate(lines):
        if not line.description.strip():
            raise Invalid(f"Line {index + 1}: enter a description", field="lines")
        if line.quantity <= 0:
            raise Invalid(f"Line {index + 1}: quantity must be above 0", field="lines")
        if line.unit_price < 0:
            raise Invalid(f"Line {index + 1}: price cannot be negative", field="lines")


def _replace_lines(db: Session, invoice: Invoice, lines: list[LineInput]) -> None:
    db.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id))
    for position, line in enumerate(lines, start=1):
        db.add(
            InvoiceLine(
                invoice_id=invoice.id,
                position=position,
                description=line.description.strip()[:500],
                quantity=line.quantity,
                unit_price=line.unit_price,
            )
        )


def _next_number(db: Session) -> str:
    year = utcnow().year
    count = db.scalar(select(func.count()).where(Invoice.number.like(f"{year}-%"))) or 0
    return f"{year}-{count + 1:04d}"


def create_invoice(
    db: Session,
    user: User,
    project_id: int | None,
    client_org_id: int | None,
    currency: str,
    tax_rate: Decimal,
    due_date: date | None,
    notes: str,
    lines: list[LineInput],
) -> Invoice:
    if project_id is not None:
        project = db.get(Project, project_id)
        if project is None:
            raise Invalid("No such project", field="project_id")
        require(db, user, Action.INVOICE_MANAGE, project_target(project))
        client_org_id = project.client_org_id
    else:
        require(db, user, Action.INVOICE_MANAGE)
    if client_org_id is None or db.get(ClientOrg, client_org_id) is None:
        raise Invalid("Choose a client organisation or a project", field="client_org_id")
    currency = currency.strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise Invalid("Use a three-letter currency code such as EUR", field="currency")
    if not Decimal(0) <= tax_rate <= Decimal(100):
        raise Invalid("Tax rate is a percentage between 0 and 100", field="tax_rate")
    _check_lines(lines)
    invoice = Invoice(
        client_org_id=client_org_id,
        project_id=project_id,
        number=_next_number(db),
        currency=currency,
        tax_rate=tax_rate,
        due_date=due_date,
        notes=notes[:5000],
        created_by=user.id,
    )
    db.add(invoice)
    db.flush()
    _replace_lines(db, invoice, lines)
    events.record(db, "invoice.created", project_id, user, {"invoice_id": invoice.id},
                  audience=Audience.INTERNAL)  # fmt: skip
    return invoice


def update_draft(
    db: Session, user: User, invoice: Invoice, lines: list[LineInput] | None, notes: str | None,
    due_date: date | None,
) -> Invoice:  # fmt: skip
    require(db, user, Action.INVOICE_MANAGE, invoice_target(invoice))
    if invoice.status is not InvoiceStatus.DRAFT:
        raise Conflict("Only draft invoices can be changed")
    if lines is not None:
        _check_lines(lines)
        _replace_lines(db, invoice, lines)
    if notes is not None:
        invoice.notes = notes[:5000]
    if due_date is not None:
        invoice.due_date = due_date
    return invoice


TRANSITIONS = {
    "send": ({InvoiceStatus.DRAFT}, InvoiceStatus.SENT),
    "pay": ({InvoiceStatus.SENT}, InvoiceStatus.PAID),
    "void": ({InvoiceStatus.DRAFT, InvoiceStatus.SENT}, InvoiceStatus.VOID),
}


def transition(db: Session, user: User, invoice: Invoice, step: str) -> Invoice:
    require(db, user, Action.INVOICE_MANAGE, invoice_target(invoice))
    sources, target = TRANSITIONS[step]
    if invoice.status not in sources:
        raise Conflict(f"A {invoice.status.value} invoice cannot be marked {target.value}")
    if step == "send":
        if not lines_of(db, invoice.id):
            raise Conflict("Add at least one line before sending")
        invoice.issue_date = utcnow().date()
    invoice.status = target
    events.record(
        db,
        f"invoice.{target.value}",
        invoice.project_id,
        user,
        {"invoice_id": invoice.id},
        audience=Audience.ALL
        if target in (InvoiceStatus.SENT, InvoiceStatus.PAID)
        else Audience.INTERNAL,
    )
    return invoice


def overdue(invoices: list[Invoice]) -> list[Invoice]:
    today = utcnow().date()
    return [
        i for i in invoices if i.status is InvoiceStatus.SENT and i.due_date and i.due_date < today
    ]
