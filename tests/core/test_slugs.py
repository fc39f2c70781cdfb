"""App slug rules (SPEC section 2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from picloud.core.slugs import RESERVED_SLUGS, SlugError, validate_slug


@pytest.mark.parametrize("slug", ["a", "0", "shop", "shop-2", "my--app", "x-", "a" * 63, "default"])
def test_valid_slugs_come_back_unchanged(slug: str) -> None:
    assert validate_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    ["", "-shop", "Shop", "shop_2", "shop.app", "shöp", "a" * 64, "shop\n", " shop", "sh op"],
)
def test_invalid_slugs_name_the_pattern(slug: str) -> None:
    with pytest.raises(SlugError) as caught:
        validate_slug(slug)
    assert caught.value.rule == "must match ^[a-z0-9][a-z0-9-]{0,62}$"
    assert repr(slug) in str(caught.value)


@pytest.mark.parametrize("slug", sorted(RESERVED_SLUGS))
def test_reserved_slugs_are_refused_by_name(slug: str) -> None:
    with pytest.raises(SlugError) as caught:
        validate_slug(slug)
    assert caught.value.rule == f"'{slug}' is reserved"


def test_the_reserved_list_is_the_specs() -> None:
    assert {
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
    } == RESERVED_SLUGS


def test_a_non_string_is_a_slug_error() -> None:
    with pytest.raises(SlugError, match="must be a string"):
        validate_slug(42)  # type: ignore[arg-type]


def test_slug_error_is_a_value_error() -> None:
    assert issubclass(SlugError, ValueError)


@given(st.from_regex(r"[a-z0-9][a-z0-9-]{0,62}", fullmatch=True))
def test_every_slug_matching_the_pattern_is_valid_unless_reserved(slug: str) -> None:
    if slug in RESERVED_SLUGS:
        with pytest.raises(SlugError):
            validate_slug(slug)
    else:
        assert validate_slug(slug) == slug
