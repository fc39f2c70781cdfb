"""Dashboard URLs, built in one place so templates, redirects and tests agree.

>>> app_url("shop")
'/admin/apps/shop'
>>> app_url("shop", "domains")
'/admin/apps/shop/domains'
>>> script_url("shop", "cart.v2", "test")
'/admin/apps/shop/scripts/cart.v2/test'
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

PREFIX = "/admin"
HOME = PREFIX + "/"
LOGIN = PREFIX + "/login"


def app_url(slug: str, tab: str = "") -> str:
    """An app's page; `tab` is one of "", "scripts", "domains", "settings" (or a sub-path)."""
    url = f"{PREFIX}/apps/{quote(slug, safe='')}"
    return f"{url}/{tab}" if tab else url


def script_url(slug: str, name: str, tab: str = "edit") -> str:
    """A script's tab: "edit", "test", "routing", "executions", "settings" (or a sub-path)."""
    return f"{app_url(slug, 'scripts')}/{quote(name, safe='')}/{tab}"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a dashboard path only, never another site.

    >>> safe_next("/admin/apps/shop?tab=1")
    '/admin/apps/shop?tab=1'
    >>> safe_next("https://evil.example/admin/")
    '/admin/'
    >>> safe_next("//evil.example/admin/")
    '/admin/'
    """
    if not target:
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(PREFIX) or "\\" in target:
        return HOME
    return target
