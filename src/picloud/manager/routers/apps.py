"""`/api/v1/admin/apps`: apps, their slugs and their domain claims."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from picloud.manager.auth import Principal
from picloud.manager.dependencies import Allowed, Context, app_target, instance_action, listing
from picloud.manager.openapi import READ, REDIRECT, TARGET, WRITE, problems
from picloud.manager.problems import (
    APP_HAS_SCRIPTS,
    DOMAIN_CONFLICT,
    DOMAIN_INVALID,
    SLUG_HISTORICAL,
    SLUG_INVALID,
    SLUG_TAKEN,
)
from picloud.manager.services import apps as app_service
from picloud.manager.services import domains as domain_service
from picloud.manager.wire import (
    App,
    AppCreate,
    AppList,
    AppListItem,
    AppUpdate,
    Domain,
    DomainCreate,
    DomainList,
    SlugCheckAnswer,
    SlugCheckRequest,
)

router = APIRouter(prefix="/apps", tags=["apps"])
ONE_APP = "/{id_or_slug}"


@router.get("", response_model=AppList, responses=problems(READ))
def list_apps(ctx: Context, principal: Principal = listing("app:read")) -> AppList:
    found = app_service.list_apps(ctx.database, only=principal.bound_app_id)
    items = [
        AppListItem(**App.model_validate(app).model_dump(), script_count=count)
        for app, count in found
    ]
    return AppList(items=items)


@router.post(
    "",
    status_code=201,
    response_model=App,
    responses=problems(WRITE, SLUG_INVALID, SLUG_TAKEN, SLUG_HISTORICAL),
)
def create_app(body: AppCreate, ctx: Context, _=instance_action("app:admin")) -> App:
    app = app_service.create_app(
        ctx.database,
        slug=body.slug,
        name=body.name,
        description=body.description,
        force_takeover=body.force_takeover,
    )
    return App.model_validate(app)


@router.get(
    ONE_APP,
    response_model=App,
    summary="One app by id or slug; an old slug answers 308 to the current URL",
    responses={**REDIRECT, **problems(READ, TARGET)},
)
def get_app(allowed: Allowed = app_target("app:read")) -> App:
    return App.model_validate(allowed.app)


@router.patch(
    ONE_APP,
    response_model=App,
    summary="Update or rename; a slug held in another app's history needs force_takeover",
    responses={
        **REDIRECT,
        **problems(WRITE, TARGET, SLUG_INVALID, SLUG_TAKEN, SLUG_HISTORICAL),
    },
)
def update_app(body: AppUpdate, ctx: Context, allowed: Allowed = app_target("app:admin")) -> App:
    assert allowed.app is not None
    app = app_service.update_app(
        ctx.database,
        allowed.app.id,
        slug=body.slug,
        name=body.name,
        description=body.description,
        force_takeover=body.force_takeover,
        can_see=allowed.principal.can_see_app,
    )
    return App.model_validate(app)


@router.delete(
    ONE_APP,
    status_code=204,
    response_class=Response,
    summary="Delete an app; one with scripts needs ?force=true (everything it owns goes too)",
    responses={**REDIRECT, **problems(WRITE, TARGET, APP_HAS_SCRIPTS)},
)
def delete_app(
    ctx: Context,
    force: bool = Query(False, description="Delete the scripts and everything else too."),
    allowed: Allowed = app_target("app:admin"),
) -> Response:
    assert allowed.app is not None
    app_service.delete_app(ctx.database, allowed.app.id, force=force)
    return Response(status_code=204)


@router.post(
    ONE_APP + "/slug:check",
    response_model=SlugCheckAnswer,
    summary="Whether a slug is free, taken, historical (another app's old slug), reserved or "
    "invalid",
    responses={**REDIRECT, **problems(WRITE, TARGET)},
)
def check_slug(
    body: SlugCheckRequest, ctx: Context, allowed: Allowed = app_target("app:admin")
) -> SlugCheckAnswer:
    assert allowed.app is not None
    result = app_service.check_slug(
        ctx.database, allowed.app.id, body.slug, can_see=allowed.principal.can_see_app
    )
    return SlugCheckAnswer.model_validate(result)


@router.post(
    ONE_APP + "/domains",
    status_code=201,
    response_model=Domain,
    responses={**REDIRECT, **problems(WRITE, TARGET, DOMAIN_INVALID, DOMAIN_CONFLICT)},
)
def claim_domain(
    body: DomainCreate, ctx: Context, allowed: Allowed = app_target("app:admin")
) -> Domain:
    assert allowed.app is not None
    claim = domain_service.claim_domain(
        ctx.database, allowed.app.id, body.pattern, can_see=allowed.principal.can_see_app
    )
    return Domain.model_validate(claim)


@router.get(
    ONE_APP + "/domains",
    response_model=DomainList,
    responses={**REDIRECT, **problems(READ, TARGET)},
)
def list_domains(ctx: Context, allowed: Allowed = app_target("app:read")) -> DomainList:
    assert allowed.app is not None
    claims = domain_service.list_domains(ctx.database, allowed.app.id)
    return DomainList(items=[Domain.model_validate(c) for c in claims])


@router.delete(
    ONE_APP + "/domains/{domain_id}",
    status_code=204,
    response_class=Response,
    responses={**REDIRECT, **problems(WRITE, TARGET)},
)
def release_domain(
    domain_id: str, ctx: Context, allowed: Allowed = app_target("app:admin")
) -> Response:
    assert allowed.app is not None
    domain_service.release_domain(ctx.database, allowed.app.id, domain_id)
    return Response(status_code=204)
