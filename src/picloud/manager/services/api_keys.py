"""API keys: minted with scopes, an optional expiry and an optional app; shown once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from picloud.manager.auth.principal import SCOPES
from picloud.manager.auth.tokens import api_key_prefix, hash_token, new_api_key
from picloud.manager.problems import NOT_FOUND, VALIDATION
from picloud.manager.services.apps import find_app
from picloud.store import api_keys
from picloud.store.api_keys import ApiKeyRecord
from picloud.store.database import Database
from picloud.store.errors import MissingReference
from picloud.store.new_rows import utc_now


@dataclass(frozen=True, slots=True)
class MintedKey:
    record: ApiKeyRecord
    token: str  # the only time the secret is available


def mint_key(
    database: Database,
    *,
    name: str,
    scopes: list[str],
    app: str | None = None,
    expires_at: datetime | None = None,
    created_by: str | None = None,
    now: datetime | None = None,
) -> MintedKey:
    """Create a key; `app` is an app id or slug the key is bound to (None: every app)."""
    if not name.strip():
        raise VALIDATION("the key needs a name", field="name")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise VALIDATION(
            f"scopes must be a non-empty list from: {', '.join(SCOPES)}", field="scopes"
        )
    if expires_at is not None and expires_at <= (now or utc_now()):
        raise VALIDATION("expires_at must be in the future", field="expires_at")
    app_id = find_app(database, app).app.id if app is not None else None
    token = new_api_key()
    try:
        with database.begin() as conn:
            record = api_keys.create(
                conn,
                name=name.strip(),
                prefix=api_key_prefix(token),
                token_hash=hash_token(token),
                scopes=sorted(set(scopes), key=SCOPES.index),
                app_id=app_id,
                expires_at=expires_at,
                created_by=created_by,
            )
    except MissingReference:  # the app or the creator was deleted meanwhile
        raise NOT_FOUND("the app or the creating user no longer exists") from None
    return MintedKey(record, token)


def list_keys(database: Database, *, app_id: str | None = None) -> list[ApiKeyRecord]:
    with database.connect() as conn:
        return api_keys.list_all(conn, app_id=app_id)


def revoke_key(database: Database, key_id: str) -> None:
    with database.begin() as conn:
        if not api_keys.delete_one(conn, key_id):
            raise NOT_FOUND(f"no API key with id '{key_id}'")
