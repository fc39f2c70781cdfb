"""`/api/v1/admin/routes...`: one route, conflict preview (`routes:check`) and match preview
(`routes:match`)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from picloud.manager.auth import Principal
from picloud.manager.dependencies import (
    Allowed,
    Caller,
    Context,
    allowed_script,
    listing,
    route_target,
)
from picloud.manager.openapi import READ, TARGET, WRITE, problems
from picloud.manager.problems import VALIDATION
from picloud.manager.services import routes as route_service
from picloud.manager.services.routes import RouteRequest
from picloud.manager.wire import (
    MatchAnswer,
    MatchRequest,
    ProblemBody,
    Route,
    RouteCheckAnswer,
    RouteCheckRequest,
)

router = APIRouter(tags=["routes"])


@router.post(
    "/routes:check",
    response_model=RouteCheckAnswer,
    summary="What creating this route would answer: ok, or the conflict / problem",
    responses=problems(WRITE, TARGET),
)
def check_route(body: RouteCheckRequest, ctx: Context, principal: Caller) -> RouteCheckAnswer:
    script = allowed_script(ctx, principal, "script:read", body.script_id)
    request = RouteRequest(body.method, body.host, body.path, body.host_kind, body.path_kind)
    result = route_service.check_route(ctx.database, script, request)
    return RouteCheckAnswer(
        ok=result.ok,
        conflict=Route.model_validate(result.conflict) if result.conflict else None,
        problem=ProblemBody.model_validate(result.problem) if result.problem else None,
    )


@router.post(
    "/routes:match",
    response_model=MatchAnswer,
    summary="Which app, script and route a request would reach, with params, or why none",
    responses=problems(WRITE),
)
async def match_route(
    body: MatchRequest, ctx: Context, principal: Principal = listing("app:read")
) -> MatchAnswer:
    try:
        answer = await run_in_threadpool(ctx.match_preview, body.method, body.url)
    except ValueError as exc:  # a URL urllib cannot split, such as "http://[x"
        raise VALIDATION(f"url: {exc}", field="url") from None
    app = answer.get("app")
    if app and not principal.can_see_app(app["id"]):
        return MatchAnswer(
            matched=False,
            app=None,
            script=None,
            route=None,
            params={},
            rest=None,
            reason="the request would reach an app this API key cannot see",
        )
    return MatchAnswer.model_validate(answer)


@router.get("/routes/{route_id}", response_model=Route, responses=problems(READ, TARGET))
def get_route(allowed: Allowed = route_target("script:read")) -> Route:
    return Route.model_validate(allowed.route)


@router.delete(
    "/routes/{route_id}",
    status_code=204,
    response_class=Response,
    responses=problems(WRITE, TARGET),
)
def delete_route(ctx: Context, allowed: Allowed = route_target("script:write")) -> Response:
    assert allowed.route is not None
    route_service.delete_route(ctx.database, allowed.route.id)
    return Response(status_code=204)
