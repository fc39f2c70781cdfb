"""App slugs: the short name in dashboard URLs (SPEC section 2).

A slug is lower-case letters, digits and hyphens, starts with a letter or digit, and is at most
63 characters long; a few words are reserved because they name platform pages::

    >>> validate_slug("shop-2")
    'shop-2'
    >>> validate_slug("Shop")
    Traceback (most recent call last):
    ...
    picloud.core.slugs.SlugError: 'Shop' is not a valid slug: must match ^[a-z0-9][a-z0-9-]{0,62}$
    >>> validate_slug("admin")
    Traceback (most recent call last):
    ...
    picloud.core.slugs.SlugError: 'admin' is not a valid slug: 'admin' is reserved

`default` is not reserved: it is the slug of the app the migrations seed, so it is simply taken.
"""

from __future__ import annotations

import re

SLUG_PATTERN = "^[a-z0-9][a-z0-9-]{0,62}$"
# fullmatch rather than `$`, which would also accept a trailing newline.
_SLUG = re.compile(SLUG_PATTERN.strip("^$"))

#: Words that name platform pages or API roots, refused as app slugs.
RESERVED_SLUGS: frozenset[str] = frozenset(
    {
        "new",
        "api",
        "admin",
        "admins",
        "healthz",
        "version",
        "login",
        "logout",
        "apps",
        "metrics",
        "static",
    }
)


class SlugError(ValueError):
    """A slug breaks a rule; `rule` is the sentence that names it, for a 422 body."""

    def __init__(self, slug: object, rule: str):
        super().__init__(f"{slug!r} is not a valid slug: {rule}")
        self.slug = slug
        self.rule = rule


def validate_slug(slug: str) -> str:
    """Return `slug` unchanged when it is a usable app slug, else raise `SlugError`.

    >>> validate_slug("hello-world")
    'hello-world'
    """
    if not isinstance(slug, str):
        raise SlugError(slug, "must be a string")
    if not _SLUG.fullmatch(slug):
        raise SlugError(slug, f"must match {SLUG_PATTERN}")
    if slug in RESERVED_SLUGS:
        raise SlugError(slug, f"{slug!r} is reserved")
    return slug
