"""Random secrets and their at-rest form (sha256), compared in constant time.

Session tokens and API keys are 256-bit random secrets, so a fast hash is enough at rest: there
is nothing to brute-force, and sha256 lets the token itself be the lookup key::

    >>> hash_token("abc")
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    >>> api_key_prefix("pic_ab12cd34ef56gh78")
    'pic_ab12cd34'
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_KEY_MARK = "pic_"
API_KEY_PREFIX_LENGTH = 12  # "pic_" and 8 characters of the secret: shown in listings


def new_secret() -> str:
    """A URL-safe random string carrying 256 bits."""
    return secrets.token_urlsafe(32)


def new_session_token() -> str:
    return new_secret()


def new_api_key() -> str:
    return API_KEY_MARK + new_secret()


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_MARK)


def api_key_prefix(token: str) -> str:
    return token[:API_KEY_PREFIX_LENGTH]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time equality; None never matches."""
    if given is None or expected is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
