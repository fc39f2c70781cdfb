"""`/api/v1/admin/users`: admin users (needs `instance:admin`)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from picloud.manager.dependencies import Context, instance_action
from picloud.manager.openapi import READ, TARGET, WRITE, problems
from picloud.manager.problems import LAST_OWNER, PASSWORD_INVALID, USERNAME_TAKEN
from picloud.manager.services import users as user_service
from picloud.manager.wire import User, UserCreate, UserList, UserUpdate

router = APIRouter(prefix="/users", tags=["admin users"])
ADMIN = "instance:admin"


@router.get("", response_model=UserList, responses=problems(READ))
def list_users(ctx: Context, _=instance_action(ADMIN)) -> UserList:
    users = user_service.list_users(ctx.database)
    return UserList(items=[User.model_validate(u) for u in users])


@router.post(
    "",
    status_code=201,
    response_model=User,
    responses=problems(WRITE, USERNAME_TAKEN, PASSWORD_INVALID),
)
def create_user(body: UserCreate, ctx: Context, _=instance_action(ADMIN)) -> User:
    user = user_service.create_user(
        ctx.database, username=body.username, password=body.password, role=body.role
    )
    return User.model_validate(user)


@router.get("/{user_id}", response_model=User, responses=problems(READ, TARGET))
def get_user(user_id: str, ctx: Context, _=instance_action(ADMIN)) -> User:
    return User.model_validate(user_service.get_user(ctx.database, user_id))


@router.patch(
    "/{user_id}",
    response_model=User,
    summary="Change role, active flag or password (deactivating ends sessions and keys)",
    responses=problems(WRITE, TARGET, LAST_OWNER, PASSWORD_INVALID),
)
def update_user(user_id: str, body: UserUpdate, ctx: Context, _=instance_action(ADMIN)) -> User:
    user = user_service.update_user(
        ctx.database, user_id, role=body.role, is_active=body.is_active, password=body.password
    )
    return User.model_validate(user)


@router.delete(
    "/{user_id}",
    status_code=204,
    response_class=Response,
    responses=problems(WRITE, TARGET, LAST_OWNER),
)
def delete_user(user_id: str, ctx: Context, _=instance_action(ADMIN)) -> Response:
    user_service.delete_user(ctx.database, user_id)
    return Response(status_code=204)
