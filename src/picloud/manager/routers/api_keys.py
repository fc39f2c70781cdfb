"""`/api/v1/admin/api-keys`: mint (the token is shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response

from picloud.manager.auth import Principal
from picloud.manager.dependencies import Context, instance_action
from picloud.manager.openapi import READ, TARGET, WRITE, problems
from picloud.manager.services import api_keys as key_service
from picloud.manager.wire import ApiKey, ApiKeyCreate, ApiKeyCreated, ApiKeyList

router = APIRouter(prefix="/api-keys", tags=["API keys"])
ADMIN = "instance:admin"


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyCreated,
    summary="Mint a key; the answer holds the token, which is never shown again",
    responses=problems(WRITE, TARGET),
)
def mint_key(
    body: ApiKeyCreate, ctx: Context, principal: Principal = instance_action(ADMIN)
) -> ApiKeyCreated:
    minted = key_service.mint_key(
        ctx.database,
        name=body.name,
        scopes=list(body.scopes),
        app=body.app_id,
        expires_at=body.expires_at,
        created_by=principal.user_id,
        now=ctx.clock(),
    )
    return ApiKeyCreated(**ApiKey.model_validate(minted.record).model_dump(), token=minted.token)


@router.get("", response_model=ApiKeyList, responses=problems(READ))
def list_keys(ctx: Context, _=instance_action(ADMIN)) -> ApiKeyList:
    keys = key_service.list_keys(ctx.database)
    return ApiKeyList(items=[ApiKey.model_validate(k) for k in keys])


@router.delete(
    "/{key_id}", status_code=204, response_class=Response, responses=problems(WRITE, TARGET)
)
def revoke_key(key_id: str, ctx: Context, _=instance_action(ADMIN)) -> Response:
    key_service.revoke_key(ctx.database, key_id)
    return Response(status_code=204)
