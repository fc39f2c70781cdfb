"""The JSON shapes of the admin API (SPEC section 8), as Pydantic models for FastAPI.

Request models refuse unknown fields, so a typo is a 422 naming it rather than silently ignored.
Response models read the store's records by attribute; extra fields in answers are additions,
never renames.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, field_validator

from picloud.executor.interface import OUTCOMES
from picloud.manager.auth.passwords import MIN_PASSWORD_LENGTH
from picloud.manager.auth.principal import Role, Scope

Outcome = Literal[OUTCOMES]


def storable_text_problem(value: str) -> str | None:
    """Why a string cannot be stored in every database, or None.

    >>> storable_text_problem("café") is None
    True
    >>> storable_text_problem("a\\x00b")
    'must not contain NUL characters'
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode (no lone surrogates)"
    return None


def _check_text(value: Any) -> Any:
    if isinstance(value, str):
        problem = storable_text_problem(value)
        if problem:
            raise ValueError(problem)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
    return value


class Request(BaseModel):
    """A request body: unknown fields and text no database can store are refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        return _check_text(value)


class Answer(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ProblemBody(BaseModel):
    """An RFC 9457 problem document; kinds add fields such as `field`, `line`, `conflict`."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["https://picloud.dev/problems/slug-invalid"])
    title: str
    status: int
    detail: str


# -- auth ------------------------------------------------------------------------------------


class LoginRequest(Request):
    username: str = Field(max_length=256)
    password: str = Field(max_length=1024)


#: New passwords: the minimum is checked by the users service (a `password-invalid` problem)
#: and declared here so the OpenAPI document states it.
NEW_PASSWORD = {"json_schema_extra": {"minLength": MIN_PASSWORD_LENGTH}, "max_length": 1024}


class SetupRequest(Request):
    token: str = Field(max_length=256)
    username: str = Field(max_length=256)
    password: str = Field(**NEW_PASSWORD)


class UserRef(Answer):
    id: str
    username: str
    role: Role


class LoginAnswer(BaseModel):
    token: str
    csrf_token: str
    expires_at: datetime
    user: UserRef


class Me(BaseModel):
    """The caller: a user (signed in) or an API key (`name`, `scopes`, `app_id`)."""

    kind: Literal["user", "api_key"]
    id: str
    username: str | None
    role: Role | None
    name: str | None = None
    scopes: list[Scope]
    app_id: str | None = None
    csrf_token: str | None = None


# -- admin users -----------------------------------------------------------------------------


class UserCreate(Request):
    username: str = Field(max_length=256)
    password: str = Field(**NEW_PASSWORD)
    role: Role = "admin"


class UserUpdate(Request):
    role: Role | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, **NEW_PASSWORD)


class User(Answer):
    id: str
    username: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UserList(BaseModel):
    items: list[User]


# -- API keys --------------------------------------------------------------------------------


class ApiKeyCreate(Request):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Scope] = Field(min_length=1)
    app_id: str | None = Field(default=None, description="An app id or slug to bind the key to.")
    expires_at: AwareDatetime | None = Field(
        default=None, description="ISO 8601 with a time zone; must be in the future."
    )


class ApiKey(Answer):
    id: str
    name: str
    prefix: str
    scopes: list[Scope]
    app_id: str | None
    expires_at: datetime | None
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None


class ApiKeyCreated(ApiKey):
    token: str = Field(description="The key itself; shown only in this answer.")


class ApiKeyList(BaseModel):
    items: list[ApiKey]


# -- apps ------------------------------------------------------------------------------------


class AppCreate(Request):
    slug: str = Field(max_length=256)
    name: str = Field(max_length=256)
    description: str = Field(default="", max_length=10_000)
    force_takeover: bool = False


class AppUpdate(Request):
    slug: str | None = Field(default=None, max_length=256)
    name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=10_000)
    force_takeover: bool = False


class App(Answer):
    id: str
    slug: str
    name: str
    description: str
    created_at: datetime
    updated_at: datetime


class AppListItem(App):
    script_count: int


class AppList(BaseModel):
    items: list[AppListItem]


class AppRef(BaseModel):
    id: str
    slug: str


class SlugCheckRequest(Request):
    slug: str = Field(max_length=256)


class SlugCheckAnswer(Answer):
    slug: str
    status: Literal["free", "taken", "historical", "reserved", "invalid"]
    app: AppRef | None
    detail: str


# -- domains ---------------------------------------------------------------------------------


class DomainCreate(Request):
    pattern: str = Field(max_length=300)


class Domain(Answer):
    id: str
    app_id: str
    pattern: str
    shape: Literal["exact", "wildcard", "param"]
    shape_key: str
    created_at: datetime


class DomainList(BaseModel):
    items: list[Domain]


# -- scripts ---------------------------------------------------------------------------------

LimitOverrides = dict[str, StrictInt | None]


class ScriptCreate(Request):
    app_id: str = Field(max_length=256, description="The app's id or slug.")
    name: str = Field(max_length=256)
    source: str
    description: str = Field(default="", max_length=10_000)
    handler: str = Field(default="handle", max_length=256)
    limits: LimitOverrides | None = None


class ScriptUpdate(Request):
    name: str | None = Field(default=None, max_length=256)
    source: str | None = None
    description: str | None = Field(default=None, max_length=10_000)
    handler: str | None = Field(default=None, max_length=256)
    limits: LimitOverrides | None = None


class ScriptSummary(Answer):
    id: str
    app_id: str
    name: str
    description: str
    handler: str
    limits: dict[str, int] = Field(description="Only the overrides asked for.")
    version: int
    created_at: datetime
    updated_at: datetime


class Script(ScriptSummary):
    source: str
    effective_limits: dict[str, int] = Field(description="The limits the script runs with.")


class ScriptList(BaseModel):
    items: list[ScriptSummary]


# -- routes ----------------------------------------------------------------------------------

HostKind = Literal["any", "strict", "wildcard"]
PathKind = Literal["exact", "prefix", "param"]


class RouteCreate(Request):
    method: str | None = Field(default=None, max_length=64, description="A verb, or null/ANY.")
    host: str = Field(default="", max_length=300)
    path: str = Field(max_length=2048)
    host_kind: HostKind | None = None
    path_kind: PathKind | None = None


class RouteCheckRequest(RouteCreate):
    script_id: str = Field(max_length=256)


class Route(Answer):
    id: str
    app_id: str
    script_id: str
    method: str | None
    host: str
    host_kind: HostKind
    path: str
    path_kind: PathKind
    created_at: datetime


class RouteList(BaseModel):
    items: list[Route]


class RouteCheckAnswer(BaseModel):
    ok: bool
    conflict: Route | None
    problem: ProblemBody | None = Field(description="What creating the route would answer.")


class MatchRequest(Request):
    url: str = Field(max_length=4096, examples=["http://localhost:8080/hello?name=pi"])
    method: str = Field(default="GET", max_length=64)


class MatchedScript(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    name: str


class MatchedRoute(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    method: str | None
    host: str
    host_kind: str
    path: str
    path_kind: str


class MatchAnswer(BaseModel):
    model_config = ConfigDict(extra="allow")
    matched: bool
    app: AppRef | None
    script: MatchedScript | None
    route: MatchedRoute | None
    params: dict[str, str]
    rest: str | None
    reason: str | None


# -- executions ------------------------------------------------------------------------------


class LogLine(BaseModel):
    level: str
    message: str
    fields: dict[str, Any]
    at: str


class Execution(Answer):
    id: str
    app_id: str
    script_id: str
    script_version: int
    invocation: str
    method: str
    path: str
    status_code: int
    outcome: str
    duration_ms: float
    started_at: datetime
    logs: list[LogLine]
    error: str | None


class ExecutionPage(BaseModel):
    items: list[Execution]
    next_cursor: str | None
