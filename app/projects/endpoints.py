"""JSON API for projects, their members and client organisations."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.authz.guard import visible_project
from app.core.deps import DB, CurrentUser
from app.core.schemas import IdPath
from app.projects import repository, service
from app.projects.schemas import (
    MemberIn,
    MemberOut,
    OrgIn,
    OrgOut,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
)
from app.users import service as users

router = APIRouter(tags=["projects"])


@router.get("/projects", response_model=list[ProjectOut])
def list_projects(user: CurrentUser, db: DB) -> list[ProjectOut]:
    return [ProjectOut.model_validate(p) for p in repository.readable_projects(db, user)]


@router.post("/projects", response_model=ProjectOut, status_code=201)
def create_project(body: ProjectIn, user: CurrentUser, db: DB) -> ProjectOut:
    project = service.create_project(db, user, body.name, body.client_org_id, body.due_date)
    return ProjectOut.model_validate(project)


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: IdPath, user: CurrentUser, db: DB) -> ProjectOut:
    return ProjectOut.model_validate(visible_project(db, user, project_id))


@router.patch("/projects/{project_id}", response_model=ProjectOut)
def patch_project(project_id: IdPath, body: ProjectPatch, user: CurrentUser, db: DB) -> ProjectOut:
    project = visible_project(db, user, project_id)
    project = service.update_project(db, user, project, body.name, body.status, body.due_date)
    return ProjectOut.model_validate(project)


@router.get("/projects/{project_id}/members", response_model=list[MemberOut])
def list_members(project_id: IdPath, user: CurrentUser, db: DB) -> list[MemberOut]:
    visible_project(db, user, project_id)
    return [
        MemberOut(user_id=u.id, name=u.name, email=u.email, role=m.role)
        for m, u in repository.members(db, project_id)
    ]


@router.put("/projects/{project_id}/members/{user_id}", response_model=MemberOut)
def set_member(
    project_id: IdPath, user_id: IdPath, body: MemberIn, user: CurrentUser, db: DB
) -> MemberOut:
    project = visible_project(db, user, project_id)
    row = service.set_member(db, user, project, user_id, body.role)
    member = db.get(type(user), user_id)
    return MemberOut(user_id=member.id, name=member.name, email=member.email, role=row.role)


@router.delete("/projects/{project_id}/members/{user_id}", status_code=204)
def remove_member(project_id: IdPath, user_id: IdPath, user: CurrentUser, db: DB) -> Response:
    project = visible_project(db, user, project_id)
    service.remove_member(db, user, project, user_id)
    return Response(status_code=204)


@router.get("/orgs", response_model=list[OrgOut])
def list_orgs(user: CurrentUser, db: DB) -> list[OrgOut]:
    return [OrgOut.model_validate(o) for o in users.orgs(db, user)]


@router.post("/orgs", response_model=OrgOut, status_code=201)
def create_org(body: OrgIn, user: CurrentUser, db: DB) -> OrgOut:
    return OrgOut.model_validate(users.create_org(db, user, body.name))
