"""Names for captured values: a host binding (`{tenant}.example.com`) or a path parameter
(`/users/:id`). Scripts read them as `req.params[name]`, so they are plain ASCII identifiers::

    >>> is_param_name("tenant_id"), is_param_name("2fa"), is_param_name("user-id")
    (True, False, False)
"""

from __future__ import annotations

import re

PARAM_NAME_PATTERN = "[A-Za-z_][A-Za-z0-9_]*"
_PARAM_NAME = re.compile(PARAM_NAME_PATTERN)


def is_param_name(name: str) -> bool:
    """True when `name` may name a host binding or a path parameter."""
    return _PARAM_NAME.fullmatch(name) is not None
