"""A small studio with insiders and outsiders of every role, for permission tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fastapi import FastAPI

from app.assets import service as assets
from app.invoices import service as invoices
from app.models import (
    ClientOrg,
    FileKind,
    MemberRole,
    ProjectMember,
    Role,
    User,
    UserKind,
    Visibility,
)
from app.projects import service as projects
from app.reviews import service as reviews
from app_support.client import PASSWORD

# the start of an MP4 (an ftyp box): what the upload policy's sniffer needs to see a video
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 40

# role name in tests -> (role, member of the project as, belongs to the project's org)
PEOPLE = {
    "admin": (Role.ADMIN, None, False),
    "pm": (Role.PROJECT_MANAGER, MemberRole.MANAGER, False),
    "creative": (Role.CREATIVE, MemberRole.CREATIVE, False),
    "client": (Role.CLIENT, None, True),
    "other_pm": (Role.PROJECT_MANAGER, None, False),
    "other_creative": (Role.CREATIVE, None, False),
    "other_client": (Role.CLIENT, None, False),
}


@dataclass
class World:
    users: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    org: int = 0
    other_org: int = 0
    project: int = 0
    file: int = 0
    version: int = 0
    public_comment: int = 0
    internal_comment: int = 0
    draft_invoice: int = 0
    sent_invoice: int = 0


def build_world(app: FastAPI) -> World:
    world = World()
    passwords = app.state.auth.passwords
    hashed = passwords.hash(PASSWORD)
    with app.state.sessionmaker.begin() as db:
        org, other = ClientOrg(name="Acme"), ClientOrg(name="Globex")
        db.add_all([org, other])
        db.flush()
        world.org, world.other_org = org.id, other.id
        people = {}
        for name, (role, _, own_org) in PEOPLE.items():
            client = role is Role.CLIENT
            user = User(
                email=f"{name}@studio.test", name=name.replace("_", " ").title(), role=role,
                kind=UserKind.CLIENT if client else UserKind.INTERNAL,
                client_org_id=(org.id if own_org else other.id) if client else None,
                password_hash=hashed,
            )  # fmt: skip
            db.add(user)
            people[name] = user
        db.flush()
        world.users = {n: u.id for n, u in people.items()}
        world.emails = {n: u.email for n, u in people.items()}
        project = projects.create_project(db, people["admin"], "Launch film", org.id, None)
        db.add_all(
            ProjectMember(project_id=project.id, user_id=people[n].id, role=member)
            for n, (_, member, _) in PEOPLE.items()
            if member is not None
        )
        # the admin created it, so the admin is a member too; that changes nothing for an admin
        db.flush()
        world.project = project.id
        file = assets.create_file(db, people["creative"], project, "Teaser", FileKind.VIDEO)
        version = assets.add_version(db, app.state.storage, people["creative"], file, project,
                                     [MP4], "video/mp4", "teaser.mp4",
                                     settings=app.state.settings)  # fmt: skip
        world.file, world.version = file.id, version.id
        world.public_comment = reviews.add_comment(
            db, people["client"], version, project, "Love it", t_start=12.5
        ).id
        world.internal_comment = reviews.add_comment(
            db, people["creative"], version, project, "Fix grade", Visibility.INTERNAL
        ).id
        line = [invoices.LineInput("Edit", Decimal("2"), Decimal("100"))]
        world.draft_invoice = invoices.create_invoice(
            db, people["pm"], project.id, None, "EUR", Decimal("20"), None, "", line
        ).id
        sent = invoices.create_invoice(
            db, people["pm"], project.id, None, "EUR", Decimal("20"), None, "", line
        )
        invoices.transition(db, people["pm"], sent, "send")
        world.sent_invoice = sent.id
    return world
