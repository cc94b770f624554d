"""Properties of the policy table that must hold whatever rows are added later."""

from __future__ import annotations

from app.authz.policy import POLICY, Action, Scope
from app.models import Role


def test_every_action_has_a_row_and_admins_may_do_everything():
    assert set(POLICY) == set(Action)
    assert all(row.get(Role.ADMIN) is Scope.ALL for row in POLICY.values())


def test_clients_are_always_confined_to_their_organisation():
    for action, row in POLICY.items():
        assert row.get(Role.CLIENT) in (None, Scope.ORG, Scope.ORG_ISSUED, Scope.ORG_APPROVED), (
            action
        )


def test_clients_never_see_internal_comments_nor_manage_anything():
    assert Role.CLIENT not in POLICY[Action.COMMENT_INTERNAL]
    for action in (Action.PROJECT_UPDATE, Action.MEMBERS_MANAGE, Action.FILE_UPLOAD,
                   Action.INVOICE_MANAGE, Action.USER_MANAGE, Action.INVITE_STAFF):  # fmt: skip
        assert Role.CLIENT not in POLICY[action]


def test_creatives_have_no_invoices_and_only_member_projects():
    assert Role.CREATIVE not in POLICY[Action.INVOICE_READ]
    assert POLICY[Action.PROJECT_READ][Role.CREATIVE] is Scope.MEMBER


def test_only_admins_manage_users_and_invite_staff():
    assert POLICY[Action.USER_MANAGE] == {Role.ADMIN: Scope.ALL}
    assert POLICY[Action.INVITE_STAFF] == {Role.ADMIN: Scope.ALL}


def test_clients_download_only_approved_versions():
    assert POLICY[Action.FILE_DOWNLOAD][Role.CLIENT] is Scope.ORG_APPROVED
