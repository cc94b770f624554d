"""Who may do what — the one table every route and every query consults.

Each action maps a role to the scope in which it is allowed; a role missing from an action's
row is denied. Scopes:
  ALL      anywhere
  MEMBER   on projects the user is a member of
  MANAGER  on projects where the user is a member with the manager role
  ORG      on projects of the user's client organisation
  ORG_ISSUED  like ORG, and the invoice has been sent (sent or paid)
  ORG_APPROVED  like ORG, and the file version has been approved
"""

from __future__ import annotations

import enum

from app.models import Role


class Scope(enum.StrEnum):
    ALL = "all"
    MEMBER = "member"
    MANAGER = "manager"
    ORG = "org"
    ORG_ISSUED = "org_issued"
    ORG_APPROVED = "org_approved"


class Action(enum.StrEnum):
    PROJECT_READ = "project.read"
    PROJECT_CREATE = "project.create"
    PROJECT_UPDATE = "project.update"
    MEMBERS_MANAGE = "project.members.manage"
    FILE_UPLOAD = "file.upload"
    # the original file as an attachment (previews follow PROJECT_READ)
    FILE_DOWNLOAD = "file.download"
    COMMENT_CREATE = "comment.create"
    COMMENT_INTERNAL = "comment.internal"  # read and write studio-only comments
    COMMENT_RESOLVE = "comment.resolve"
    DECIDE = "version.decide"
    INVOICE_READ = "invoice.read"
    INVOICE_MANAGE = "invoice.manage"
    ORG_READ = "org.read"
    ORG_CREATE = "org.create"
    USER_MANAGE = "user.manage"
    INVITE_STAFF = "invite.staff"
    INVITE_CLIENT = "invite.client"


A, PM, CR, CL = Role.ADMIN, Role.PROJECT_MANAGER, Role.CREATIVE, Role.CLIENT
S = Scope

POLICY: dict[Action, dict[Role, Scope]] = {
    Action.PROJECT_READ: {A: S.ALL, PM: S.MEMBER, CR: S.MEMBER, CL: S.ORG},
    Action.PROJECT_CREATE: {A: S.ALL, PM: S.ALL},
    Action.PROJECT_UPDATE: {A: S.ALL, PM: S.MANAGER},
    Action.MEMBERS_MANAGE: {A: S.ALL, PM: S.MANAGER},
    Action.FILE_UPLOAD: {A: S.ALL, PM: S.MEMBER, CR: S.MEMBER},
    Action.FILE_DOWNLOAD: {A: S.ALL, PM: S.MEMBER, CR: S.MEMBER, CL: S.ORG_APPROVED},
    Action.COMMENT_CREATE: {A: S.ALL, PM: S.MEMBER, CR: S.MEMBER, CL: S.ORG},
    Action.COMMENT_INTERNAL: {A: S.ALL, PM: S.MEMBER, CR: S.MEMBER},
    Action.COMMENT_RESOLVE: {A: S.ALL, PM: S.MEMBER, CR: S.MEMBER},
    Action.DECIDE: {A: S.ALL, PM: S.MEMBER, CL: S.ORG},
    Action.INVOICE_READ: {A: S.ALL, PM: S.MANAGER, CL: S.ORG_ISSUED},
    Action.INVOICE_MANAGE: {A: S.ALL, PM: S.MANAGER},
    Action.ORG_READ: {A: S.ALL, PM: S.ALL},
    Action.ORG_CREATE: {A: S.ALL, PM: S.ALL},
    Action.USER_MANAGE: {A: S.ALL},
    Action.INVITE_STAFF: {A: S.ALL},
    # clients of the organisation of a project the PM manages
    Action.INVITE_CLIENT: {A: S.ALL, PM: S.MANAGER},
}


def scope_of(role: Role, action: Action) -> Scope | None:
    return POLICY[action].get(role)
