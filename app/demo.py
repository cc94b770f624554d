"""Demo data for `eyeshots app serve --demo`: a small studio with one of everything."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.assets import service as assets
from app.auth.service import AuthContext
from app.invoices import service as invoices
from app.models import (
    ClientOrg,
    DecisionKind,
    FileKind,
    MemberRole,
    ProjectMember,
    Role,
    User,
    UserKind,
    Visibility,
    utcnow,
)
from app.projects import service as projects
from app.reviews import service as reviews
from app.storage import Storage

DEMO_PASSWORD = "eyeshots-demo"  # noqa: S105 - printed to the operator, local demo only

# a 1x1 PNG, so the viewer has something real to show
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc000000301010018dd8db00000000049454e44ae426082"
)


def load_demo(db: Session, ctx: AuthContext, storage: Storage) -> list[tuple[str, Role]] | None:
    """Creates the demo world unless users already exist; returns (email, role) logins."""
    if db.scalar(select(User.id).limit(1)) is not None:
        return None
    org = ClientOrg(name="Northwind Coffee")
    db.add(org)
    db.flush()
    people = {}
    for email, name, role in [
        ("admin@demo.test", "Ada Admin", Role.ADMIN),
        ("pm@demo.test", "Pat Manager", Role.PROJECT_MANAGER),
        ("creative@demo.test", "Cleo Creative", Role.CREATIVE),
        ("client@demo.test", "Nora Northwind", Role.CLIENT),
    ]:
        user = User(
            email=email, name=name, role=role,
            kind=UserKind.CLIENT if role is Role.CLIENT else UserKind.INTERNAL,
            client_org_id=org.id if role is Role.CLIENT else None,
            password_hash=ctx.passwords.hash(DEMO_PASSWORD),
        )  # fmt: skip
        db.add(user)
        people[role] = user
    db.flush()
    pm, creative, client = people[Role.PROJECT_MANAGER], people[Role.CREATIVE], people[Role.CLIENT]
    project = projects.create_project(
        db, pm, "Spring campaign", org.id, utcnow().date() + timedelta(days=21)
    )
    db.add(ProjectMember(project_id=project.id, user_id=creative.id, role=MemberRole.CREATIVE))
    db.flush()
    file = assets.create_file(db, creative, project, "Hero still", FileKind.IMAGE)
    version = assets.add_version(
        db,
        storage,
        creative,
        file,
        project,
        [PIXEL],
        "image/png",
        "hero.png",
        settings=ctx.settings,
    )
    reviews.add_comment(db, creative, version, project, "First pass, colour not final",
                        Visibility.INTERNAL)  # fmt: skip
    reviews.add_comment(db, client, version, project, "Logo a bit smaller please",
                        region=(0.8, 0.1, None, None))  # fmt: skip
    reviews.decide(db, client, version, project, DecisionKind.CHANGES_REQUESTED, "See comment")
    invoice = invoices.create_invoice(
        db, pm, project.id, None, "EUR", Decimal("19"), utcnow().date() - timedelta(days=3), "",
        [invoices.LineInput("Shoot day", Decimal("1"), Decimal("1200.00")),
         invoices.LineInput("Retouching", Decimal("6"), Decimal("85.00"))],
    )  # fmt: skip
    invoices.transition(db, pm, invoice, "send")
    return [(u.email, r) for r, u in people.items()]
