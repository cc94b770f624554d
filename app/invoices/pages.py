"""Invoice list, detail, print view and the manager's actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from app.authz.check import allowed
from app.authz.policy import Action
from app.core.deps import DB, CurrentPrincipal
from app.core.errors import AppError, Invalid
from app.core.schemas import IdPath
from app.invoices import service
from app.models import InvoiceStatus, invoice_totals, line_amount
from app.projects import repository as projects
from app.web.forms import decimal, optional_date
from app.web.render import redirect, render

router = APIRouter()


def _list(
    request: Request, principal: CurrentPrincipal, db: DB, status: int = 200, **extra: object
) -> Response:
    user = principal.user
    items = service.readable_invoices(db, user)
    manageable = [
        p for p in projects.readable_projects(db, user)
        if allowed(db, user, Action.INVOICE_MANAGE, service.Target(project_id=p.id, client_org_id=p.client_org_id))
    ]  # fmt: skip
    return render(
        request, "invoices/list.html", principal, status,
        invoices=[(i, invoice_totals(i, service.lines_of(db, i.id))) for i in items],
        overdue={i.id for i in service.overdue(items)},
        orgs=projects.org_names(db), projects=manageable, **extra,
    )  # fmt: skip


@router.get("/invoices")
def invoice_list(request: Request, principal: CurrentPrincipal, db: DB) -> Response:
    return _list(request, principal, db)


@router.post("/invoices")
def invoice_create(
    request: Request, principal: CurrentPrincipal, db: DB,
    project_id: Annotated[int, Form()],
    currency: Annotated[str, Form(max_length=3)] = "EUR",
    tax_rate: Annotated[str, Form(max_length=10)] = "0",
    due_date: Annotated[str, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    try:
        invoice = service.create_invoice(
            db, principal.user, project_id, None, currency, decimal(tax_rate, "tax_rate"),
            optional_date(due_date, "due_date"), "", [],
        )  # fmt: skip
    except AppError as error:
        if error.status_code == 403:
            raise
        return _list(
            request, principal, db, error.status_code, errors={error.field or "form": error.message}
        )
    return redirect(f"/invoices/{invoice.id}")


def _detail(request: Request, principal: CurrentPrincipal, db: DB, invoice_id: IdPath,
            template: str = "invoices/detail.html", status: int = 200, **extra: object) -> Response:  # fmt: skip
    invoice = service.visible_invoice(db, principal.user, invoice_id)
    lines = service.lines_of(db, invoice.id)
    return render(
        request, template, principal, status,
        invoice=invoice, lines=[(li, line_amount(li)) for li in lines],
        totals=invoice_totals(invoice, lines),
        org=projects.org_names(db).get(invoice.client_org_id, ""),
        can_manage=allowed(db, principal.user, Action.INVOICE_MANAGE, service.invoice_target(invoice)),
        Status=InvoiceStatus, **extra,
    )  # fmt: skip


@router.get("/invoices/{invoice_id}")
def invoice_detail(
    request: Request, invoice_id: IdPath, principal: CurrentPrincipal, db: DB
) -> Response:
    return _detail(request, principal, db, invoice_id)


@router.get("/invoices/{invoice_id}/print")
def invoice_print(
    request: Request, invoice_id: IdPath, principal: CurrentPrincipal, db: DB
) -> Response:
    return _detail(request, principal, db, invoice_id, "invoices/print.html")


@router.post("/invoices/{invoice_id}/lines")
def invoice_add_line(
    request: Request, invoice_id: IdPath, principal: CurrentPrincipal, db: DB,
    description: Annotated[str, Form(max_length=500)],
    quantity: Annotated[str, Form(max_length=20)],
    unit_price: Annotated[str, Form(max_length=20)],
) -> Response:  # fmt: skip
    invoice = service.visible_invoice(db, principal.user, invoice_id)
    try:
        lines = [service.LineInput(li.description, li.quantity, li.unit_price)
                 for li in service.lines_of(db, invoice.id)]  # fmt: skip
        lines.append(service.LineInput(description, decimal(quantity, "quantity"),
                                       decimal(unit_price, "unit_price")))  # fmt: skip
        service.update_draft(db, principal.user, invoice, lines, None, None)
    except Invalid as error:
        return _detail(request, principal, db, invoice_id, status=error.status_code,
                       errors={error.field or "form": error.message})  # fmt: skip
    return redirect(f"/invoices/{invoice_id}")


@router.post("/invoices/{invoice_id}/{step}")
def invoice_transition(
    invoice_id: IdPath, step: str, principal: CurrentPrincipal, db: DB
) -> Response:
    if step not in service.TRANSITIONS:
        from app.core.errors import NotFound

        raise NotFound("No such action")
    invoice = service.visible_invoice(db, principal.user, invoice_id)
    service.transition(db, principal.user, invoice, step)
    return redirect(f"/invoices/{invoice_id}")
