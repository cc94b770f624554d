"""The first migration creates exactly the model's schema, and the database enforces its rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.db import make_engine
from app.models import (
    Base,
    ClientOrg,
    Comment,
    Decision,
    DecisionKind,
    File,
    FileKind,
    FileVersion,
    Invoice,
    InvoiceLine,
    Project,
    Role,
    User,
    UserKind,
    Visibility,
    invoice_totals,
)


def test_migration_matches_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pragma.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def _world(session: Session) -> FileVersion:
    org = ClientOrg(name="Acme")
    session.add(org)
    session.flush()
    user = User(email="c@acme.test", name="C", kind=UserKind.CLIENT, role=Role.CLIENT,
                client_org_id=org.id)  # fmt: skip
    project = Project(name="Launch", client_org_id=org.id)
    session.add_all([user, project])
    session.flush()
    file = File(project_id=project.id, title="Teaser", kind=FileKind.VIDEO)
    session.add(file)
    session.flush()
    version = FileVersion(file_id=file.id, number=1, size=3, sha256="0" * 64, storage_key="k1",
                          content_type="video/mp4", original_name="t.mp4", uploaded_by=user.id)  # fmt: skip
    session.add(version)
    session.flush()
    return version


def test_foreign_keys_are_enforced(engine):
    with Session(engine) as session:
        session.add(File(project_id=999, title="orphan", kind=FileKind.IMAGE))
        with pytest.raises(IntegrityError):
            session.flush()


def test_version_numbers_are_unique_per_file(engine):
    with Session(engine) as session:
        version = _world(session)
        session.add(FileVersion(file_id=version.file_id, number=1, size=1, sha256="1" * 64,
                                storage_key="k2", content_type="x/y", original_name="a"))  # fmt: skip
        with pytest.raises(IntegrityError):
            session.flush()


@pytest.mark.parametrize(
    "fields",
    [
        {"t_start": 5.0, "t_end": 2.0},
        {"t_end": 2.0},
        {"region_x": 1.5, "region_y": 0.2},
        {"region_x": 0.8, "region_y": 0.2, "region_w": 0.5, "region_h": 0.1},
        {"region_x": 0.1},
    ],
)
def test_comment_time_and_region_rules(engine, fields):
    with Session(engine) as session:
        version = _world(session)
        session.add(
            Comment(version_id=version.id, body="x", visibility=Visibility.PUBLIC, **fields)
        )
        with pytest.raises(IntegrityError):
            session.flush()


def test_one_decision_per_reviewer_and_version(engine):
    with Session(engine) as session:
        version = _world(session)
        reviewer = version.uploaded_by
        session.add(
            Decision(version_id=version.id, reviewer_id=reviewer, decision=DecisionKind.APPROVED)
        )
        session.flush()
        session.add(Decision(version_id=version.id, reviewer_id=reviewer,
                             decision=DecisionKind.CHANGES_REQUESTED))  # fmt: skip
        with pytest.raises(IntegrityError):
            session.flush()


def test_client_user_needs_an_org(engine):
    with Session(engine) as session:
        session.add(User(email="x@y.test", name="X", kind=UserKind.CLIENT, role=Role.CLIENT))
        with pytest.raises(IntegrityError):
            session.flush()


def test_email_is_unique(engine):
    with Session(engine) as session:
        session.add(User(email="a@b.test", name="A", kind=UserKind.INTERNAL, role=Role.ADMIN))
        session.flush()
        session.add(User(email="a@b.test", name="B", kind=UserKind.INTERNAL, role=Role.CREATIVE))
        with pytest.raises(IntegrityError):
            session.flush()


def test_invoice_totals_round_trip_through_the_database(engine):
    with Session(engine) as session:
        org = ClientOrg(name="Acme")
        session.add(org)
        session.flush()
        invoice = Invoice(client_org_id=org.id, number="2026-001", currency="EUR",
                          tax_rate=Decimal("19.00"))  # fmt: skip
        session.add(invoice)
        session.flush()
        session.add_all([
            InvoiceLine(invoice_id=invoice.id, position=1, description="Shoot day",
                        quantity=Decimal("1.5"), unit_price=Decimal("800.00")),
            InvoiceLine(invoice_id=invoice.id, position=2, description="Edit",
                        quantity=Decimal("3"), unit_price=Decimal("99.99")),
        ])  # fmt: skip
        session.commit()
        invoice_id = invoice.id
    with Session(engine) as session:
        invoice = session.get(Invoice, invoice_id)
        lines = session.query(InvoiceLine).filter_by(invoice_id=invoice_id).all()
        totals = invoice_totals(invoice, lines)
    assert totals == {
        "subtotal": Decimal("1499.97"),
        "tax": Decimal("284.99"),
        "total": Decimal("1784.96"),
    }


def test_timestamps_come_back_as_utc(engine):
    with Session(engine) as session:
        org = ClientOrg(name="Tz", created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
        session.add(org)
        session.commit()
        org_id = org.id
    with Session(engine) as session:
        assert session.get(ClientOrg, org_id).created_at == datetime(
            2026, 1, 2, 3, 4, 5, tzinfo=UTC
        )
