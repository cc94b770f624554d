"""Every table of the platform; importing this package registers them all on Base.metadata."""

from app.models.assets import File, FileKind, FileVersion
from app.models.base import Base, utcnow
from app.models.events import Audience, Event
from app.models.identity import (
    ClientOrg,
    Invitation,
    LoginAttempt,
    PasswordReset,
    Role,
    User,
    UserKind,
    UserSession,
)
from app.models.invoices import Invoice, InvoiceLine, InvoiceStatus, invoice_totals, line_amount
from app.models.mail import MailStatus, OutgoingMail
from app.models.projects import MemberRole, Project, ProjectMember, ProjectStatus
from app.models.reviews import Comment, Decision, DecisionKind, Visibility

__all__ = [
    "Audience",
    "Base",
    "ClientOrg",
    "Comment",
    "Decision",
    "DecisionKind",
    "Event",
    "File",
    "FileKind",
    "FileVersion",
    "Invitation",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "LoginAttempt",
    "MailStatus",
    "MemberRole",
    "OutgoingMail",
    "PasswordReset",
    "Project",
    "ProjectMember",
    "ProjectStatus",
    "Role",
    "User",
    "UserKind",
    "UserSession",
    "Visibility",
    "invoice_totals",
    "line_amount",
    "utcnow",
]
