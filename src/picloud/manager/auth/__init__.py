"""Authentication and authorization of the admin API and `/api/v1/execute/{script_id}`.

- `authenticate_token(database, token)` -> `Principal | None` (session token or `pic_` API key);
- `authorize(principal, action, app_id)` -> `Decision`, the one seam every endpoint goes through;
- `SCOPES`, the fixed vocabulary of API-key scopes (which are also the actions).
"""

from picloud.manager.auth.authentication import authenticate_token
from picloud.manager.auth.authorization import Decision, authorize
from picloud.manager.auth.principal import ROLES, SCOPES, Principal

__all__ = ["ROLES", "SCOPES", "Decision", "Principal", "authenticate_token", "authorize"]
