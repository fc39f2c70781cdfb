"""`/api/v1/admin/auth/...`: login, logout, me, first-owner setup."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from picloud.manager.auth import SCOPES, Principal
from picloud.manager.dependencies import SESSION_COOKIE, Context, signed_in
from picloud.manager.openapi import WRITE, problems
from picloud.manager.problems import (
    INVALID_CREDENTIALS,
    PASSWORD_INVALID,
    RATE_LIMITED,
    SETUP_TOKEN_INVALID,
    UNAUTHENTICATED,
    USERNAME_TAKEN,
    VALIDATION,
)
from picloud.manager.services import auth as auth_service
from picloud.manager.wire import LoginAnswer, LoginRequest, Me, SetupRequest, UserRef

router = APIRouter(prefix="/auth", tags=["auth"])


def _answer(request: Request, response: Response, signed: auth_service.SignedIn) -> LoginAnswer:
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return LoginAnswer(
        token=signed.token,
        csrf_token=signed.csrf_token,
        expires_at=signed.expires_at,
        user=UserRef.model_validate(signed.user),
    )


@router.post(
    "/login",
    response_model=LoginAnswer,
    summary="Sign in: a session token, also set as the HttpOnly cookie picloud_session",
    responses=problems(INVALID_CREDENTIALS, RATE_LIMITED, VALIDATION),
)
async def login(body: LoginRequest, request: Request, response: Response, ctx: Context):
    client_ip = request.client.host if request.client else "unknown"
    signed = await run_in_threadpool(
        auth_service.login, ctx, body.username, body.password, client_ip
    )
    return _answer(request, response, signed)


@router.post(
    "/setup",
    status_code=201,
    response_model=LoginAnswer,
    summary="Create the first owner with the one-time setup token, and sign in",
    responses=problems(SETUP_TOKEN_INVALID, USERNAME_TAKEN, PASSWORD_INVALID, VALIDATION),
)
async def setup(body: SetupRequest, request: Request, response: Response, ctx: Context):
    signed = await run_in_threadpool(
        auth_service.setup_first_owner, ctx, body.token, body.username, body.password
    )
    return _answer(request, response, signed)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    summary="End the current session (an API key is left as it is)",
    responses=problems(WRITE),
)
def logout(ctx: Context, principal: Principal = Depends(signed_in)) -> Response:
    auth_service.logout(ctx, principal)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(
    "/me",
    response_model=Me,
    summary="The caller: the signed-in user, or the API key in use",
    responses=problems(UNAUTHENTICATED),
)
def me(principal: Principal = Depends(signed_in)) -> Me:
    if principal.kind == "user":
        assert principal.user_id is not None
        return Me(
            kind="user",
            id=principal.user_id,
            username=principal.username,
            role=principal.role,
            scopes=list(SCOPES),
            csrf_token=principal.csrf_token,
        )
    assert principal.key_id is not None
    return Me(
        kind="api_key",
        id=principal.key_id,
        username=principal.username,
        role=None,
        name=principal.key_name,
        scopes=[s for s in SCOPES if s in principal.scopes],
        app_id=principal.app_id,
    )
