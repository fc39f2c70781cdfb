"""Routes: parsing, conflicts, host coverage and request-time precedence (SPEC section 4)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from picloud.core.domains import parse_claim
from picloud.core.routes import (
    Match,
    RouteEntry,
    RouteError,
    RouteMatch,
    RouteSpec,
    RouteTable,
    find_conflict,
    host_is_covered,
    parse_route,
)


def entry(id: str, method: str | None, host: str, path: str, **kinds: str) -> RouteEntry:
    return RouteEntry(id, f"script-{id}", parse_route(method, host, path, **kinds))


def table(*routes: tuple) -> RouteTable:
    """Routes as (method, host, path[, kinds]) with ids r0, r1, ... in order."""
    entries = []
    for i, route in enumerate(routes):
        *fields, kinds = route if isinstance(route[-1], dict) else (*route, {})
        entries.append(entry(f"r{i}", *fields, **kinds))
    return RouteTable.build(entries)


def winner(found: RouteMatch) -> str | None:
    return found.entry.id if found.entry else None


# -- parse_route: methods ------------------------------------------------------------------------


@pytest.mark.parametrize("method", [None, "", "ANY", "any", "*"])
def test_any_method_is_stored_as_none(method: str | None) -> None:
    assert parse_route(method, "", "/").method is None


@pytest.mark.parametrize(
    ("method", "stored"), [("GET", "GET"), ("post", "POST"), ("M-SEARCH", "M-SEARCH")]
)
def test_methods_are_upper_case_tokens(method: str, stored: str) -> None:
    assert parse_route(method, "", "/").method == stored


@pytest.mark.parametrize("method", ["GE T", "GET\n", "GET/1", "(GET)", "GÉT", 1])
def test_a_method_that_is_not_a_token_is_refused(method: str) -> None:
    with pytest.raises(RouteError) as caught:
        parse_route(method, "", "/")
    assert caught.value.field == "method"


# -- parse_route: hosts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "stored", "kind"),
    [
        ("", "", "any"),
        (None, "", "any"),
        ("*", "", "any"),
        ("API.Example.com:8080", "api.example.com", "strict"),
        ("bücher.example.", "xn--bcher-kva.example", "strict"),
        ("127.0.0.1", "127.0.0.1", "strict"),
        ("*.Example.COM", "*.example.com", "wildcard"),
        ("*.eu.example.com", "*.eu.example.com", "wildcard"),
    ],
)
def test_host_kind_is_inferred_and_the_host_normalised(host: str, stored: str, kind: str) -> None:
    spec = parse_route("GET", host, "/")
    assert (spec.host, spec.host_kind) == (stored, kind)


@pytest.mark.parametrize(
    ("host", "kind"), [("", "any"), ("example.com", "strict"), ("*.example.com", "wildcard")]
)
def test_a_given_host_kind_that_fits_is_accepted(host: str, kind: str) -> None:
    assert parse_route("GET", host, "/", host_kind=kind).host_kind == kind


@pytest.mark.parametrize(
    ("host", "kind"),
    [("", "strict"), ("example.com", "wildcard"), ("*.example.com", "strict"), ("a.b", "any")],
)
def test_a_given_host_kind_that_does_not_fit_is_refused(host: str, kind: str) -> None:
    with pytest.raises(RouteError) as caught:
        parse_route("GET", host, "/", host_kind=kind)
    assert caught.value.field == "host_kind"


def test_an_unknown_host_kind_is_refused() -> None:
    with pytest.raises(RouteError, match="host_kind must be one of any, strict, wildcard"):
        parse_route("GET", "", "/", host_kind="exact")


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("{tenant}.example.com", "cannot bind a name"),
        ("*.1.2.3", "IP address"),
        ("a.*.example.com", "whole first label"),
        ("a..example.com", "empty label"),
        ("exa mple.com", "not a valid domain name"),
        (42, "must be a string"),
    ],
)
def test_bad_hosts_are_refused(host: str, problem: str) -> None:
    with pytest.raises(RouteError) as caught:
        parse_route("GET", host, "/")
    assert caught.value.field == "host"
    assert problem in caught.value.message


# -- parse_route: paths --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/", "exact"),
        ("/greet", "exact"),
        ("/greet/", "exact"),
        ("/v1/things:batch", "exact"),
        ("/a.b/c-d/~e", "exact"),
        ("/héllo", "exact"),
        ("/users/:id", "param"),
        ("/:a/:b", "param"),
        ("/users/:id/files/:name", "param"),
        ("/files/*", "prefix"),
        ("/*", "prefix"),
        ("/a/b/c/*", "prefix"),
    ],
)
def test_path_kind_is_inferred(path: str, kind: str) -> None:
    spec = parse_route("GET", "", path)
    assert (spec.path, spec.path_kind) == (path, kind)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/users/:id", "exact"),
        ("/files/*", "exact"),
        ("/a*b", "exact"),
        ("/:x/*", "prefix"),
        ("/a*/*", "prefix"),
        ("/users/:id/*", "param"),
    ],
)
def test_a_given_path_kind_wins(path: str, kind: str) -> None:
    assert parse_route("GET", "", path, path_kind=kind).path_kind == kind


@pytest.mark.parametrize(
    ("path", "kind", "field", "problem"),
    [
        ("greet", None, "path", "must start with '/'"),
        ("", None, "path", "must start with '/'"),
        ("//", None, "path", "empty segment"),
        ("/a//b", None, "path", "empty segment"),
        ("/users/:id/", None, "path", "empty segment"),
        ("/files//*", None, "path", "empty segment"),
        ("/a/./b", None, "path", "'.' segment"),
        ("/a/..", None, "path", "'..' segment"),
        ("/files/*.txt", None, "path", "'*' may only end a prefix pattern"),
        ("/a/*/b", None, "path", "'*' may only end a prefix pattern"),
        ("/a*/*", None, "path", "'*' may only end a prefix pattern"),
        ("/users/:id/*", None, "path", "mixes ':name' parameters with a '/*' prefix"),
        ("/users/:", None, "path", "parameter name ''"),
        ("/users/:1st", None, "path", "parameter name '1st'"),
        ("/users/:user-id", None, "path", "parameter name 'user-id'"),
        ("/:id/x/:id", None, "path", "uses a parameter name twice"),
        ("/greet", "param", "path_kind", "has no ':name' segment"),
        ("/greet", "prefix", "path_kind", "must end with '/*'"),
        ("/greet", "glob", "path_kind", "path_kind must be one of exact, prefix, param"),
        ("/a b", None, "path", "contains ' '"),
        ("/a\tb", None, "path", "contains '\\t'"),
        ("/a\x00", None, "path", "contains '\\x00'"),
        ("/search?q=1", None, "path", "contains '?'"),
        ("/page#top", None, "path", "contains '#'"),
        ("/caf%C3%A9", None, "path", "contains '%'"),
        (None, None, "path", "must be a string"),
    ],
)
def test_bad_paths_are_refused(path: str, kind: str | None, field: str, problem: str) -> None:
    with pytest.raises(RouteError) as caught:
        parse_route("GET", "", path, path_kind=kind)
    assert caught.value.field == field
    assert problem in caught.value.message


@pytest.mark.parametrize(
    "path",
    [
        "/api/",
        "/api/x",
        "/api/*",
        "/api/:id",
        "/admin/",
        "/admin/apps/*",
        "/static/app.css",
        "/static/*",
        "/healthz",
        "/healthz/",
        "/healthz/deep/*",
        "/version",
        "/version/:v",
        "/metrics",
        "/metrics/x",
    ],
)
def test_reserved_paths_are_refused(path: str) -> None:
    with pytest.raises(RouteError) as caught:
        parse_route(None, "", path)
    assert caught.value.field == "path"
    assert "which the platform owns" in caught.value.message


def test_a_reserved_path_is_refused_whatever_the_kind() -> None:
    with pytest.raises(RouteError, match="'/api/'"):
        parse_route(None, "", "/api/:x", path_kind="exact")


@pytest.mark.parametrize(
    "path", ["/api", "/apis", "/admin", "/static", "/healthzz", "/versions/1", "/API/x", "/:x/api"]
)
def test_neighbours_of_reserved_paths_are_allowed(path: str) -> None:
    parse_route(None, "", path)


# -- find_conflict -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("GET", "", "/greet"), ("GET", "", "/greet")),
        (("GET", "", "/greet"), (None, "", "/greet")),
        ((None, "", "/greet"), (None, "", "/greet")),
        (("GET", "", "/u/:id"), ("GET", "", "/u/:name")),
        (("GET", "", "/:a/x/:b"), ("GET", "", "/:c/x/:d")),
        (("GET", "", "/files/*"), ("ANY", "", "/files/*")),
        (("GET", "example.com", "/"), ("GET", "EXAMPLE.com:80", "/")),
        (("GET", "*.example.com", "/"), ("GET", "*.Example.com", "/")),
    ],
)
def test_routes_that_collide(first: tuple, second: tuple) -> None:
    existing = entry("old", *first)
    assert find_conflict(parse_route(*second), [existing]) == existing


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("GET", "", "/greet"), ("POST", "", "/greet")),
        (("GET", "", "/greet"), ("HEAD", "", "/greet")),
        (("GET", "", "/greet"), ("GET", "", "/greet/")),
        (("GET", "", "/greet"), ("GET", "", "/Greet")),
        (("GET", "", "/u/:id"), ("GET", "", "/u/:id/x")),
        (("GET", "", "/u/:id"), ("GET", "", "/v/:id")),
        (("GET", "", "/u/:id"), ("GET", "", "/:x/me")),
        (("GET", "", "/u/:id"), ("GET", "", "/u/me")),
        (("GET", "", "/u/*"), ("GET", "", "/u/:id")),
        (("GET", "", "/files/*"), ("GET", "", "/files/a/*")),
        (("GET", "", "/files/*"), ("GET", "", "/files/*", {"path_kind": "exact"})),
        (("GET", "", "/greet"), ("GET", "example.com", "/greet")),
        (("GET", "", "/greet"), ("GET", "*.example.com", "/greet")),
        (("GET", "a.example.com", "/"), ("GET", "b.example.com", "/")),
        (("GET", "a.example.com", "/"), ("GET", "*.example.com", "/")),
        (("GET", "*.example.com", "/"), ("GET", "*.eu.example.com", "/")),
    ],
)
def test_routes_that_coexist(first: tuple, second: tuple) -> None:
    kinds = second[3] if len(second) > 3 else {}
    assert find_conflict(parse_route(*second[:3], **kinds), [entry("old", *first)]) is None


def test_find_conflict_returns_the_first_colliding_route() -> None:
    routes = [entry("a", "POST", "", "/x"), entry("b", "GET", "", "/x"), entry("c", None, "", "/x")]
    assert find_conflict(parse_route("GET", "", "/x"), routes).id == "b"
    assert find_conflict(parse_route("PUT", "", "/x"), routes).id == "c"
    assert find_conflict(parse_route("PUT", "", "/y"), routes) is None


# -- host_is_covered -----------------------------------------------------------------------------

CLAIMS = [parse_claim(p) for p in ("api.example.com", "*.example.org", "{tenant}.example.net")]


@pytest.mark.parametrize(
    "host",
    [
        "",
        "api.example.com",
        "API.example.com:443",
        "a.example.org",
        "a.b.example.org",
        "*.example.org",
        "*.x.example.org",
        "acme.example.net",
        "*.example.net",
        "*.eu.example.net",
    ],
)
def test_hosts_inside_the_apps_claims_are_covered(host: str) -> None:
    assert host_is_covered(parse_route("GET", host, "/"), CLAIMS)


@pytest.mark.parametrize(
    "host",
    [
        "www.example.com",
        "example.com",
        "*.example.com",
        "*.api.example.com",
        "example.org",
        "badexample.org",
        "*.org",
        "example.net",
    ],
)
def test_hosts_outside_the_apps_claims_are_not_covered(host: str) -> None:
    assert not host_is_covered(parse_route("GET", host, "/"), CLAIMS)


def test_without_claims_only_any_host_is_covered() -> None:
    assert host_is_covered(parse_route("GET", "", "/"), [])
    assert not host_is_covered(parse_route("GET", "localhost", "/"), [])


# -- RouteTable.match: what a request gets ------------------------------------------------------


def test_exact_param_and_prefix_routes_capture_what_scripts_read() -> None:
    routes = table(
        ("GET", "", "/greet"), ("GET", "", "/users/:id/posts/:post"), ("GET", "", "/f/*")
    )
    assert routes.match("GET", "h", "/greet") == RouteMatch(
        Match.FULL, entry("r0", "GET", "", "/greet")
    )
    found = routes.match("GET", "h", "/users/42/posts/héllo wörld")
    assert (winner(found), found.params, found.rest) == (
        "r1",
        {"id": "42", "post": "héllo wörld"},
        None,
    )
    found = routes.match("GET", "h", "/f/css/site.css")
    assert (winner(found), found.params, found.rest) == ("r2", {}, "css/site.css")


def test_a_prefix_covers_its_directory_but_not_the_bare_name() -> None:
    routes = table((None, "", "/files/*"))
    assert routes.match("GET", "h", "/files/").rest == ""
    assert routes.match("GET", "h", "/files/a/b/").rest == "a/b/"
    assert routes.match("GET", "h", "/files").match is Match.NONE
    assert routes.match("GET", "h", "/filesystem/x").match is Match.NONE


def test_a_root_prefix_catches_everything() -> None:
    routes = table((None, "", "/*"))
    assert routes.match("GET", "h", "/").rest == ""
    assert routes.match("GET", "h", "/a/b").rest == "a/b"


def test_a_trailing_slash_makes_a_different_exact_route() -> None:
    routes = table(("GET", "", "/greet"))
    assert routes.match("GET", "h", "/greet/").match is Match.NONE
    routes = table(("GET", "", "/greet/"))
    assert routes.match("GET", "h", "/greet/").match is Match.FULL
    assert routes.match("GET", "h", "/greet").match is Match.NONE


def test_a_parameter_never_captures_an_empty_segment() -> None:
    routes = table(("GET", "", "/users/:id"), ("GET", "", "/:a/:b/:c"))
    assert routes.match("GET", "h", "/users/").match is Match.NONE
    assert routes.match("GET", "h", "/users//x").match is Match.NONE
    assert routes.match("GET", "h", "/a//c").match is Match.NONE


def test_a_literal_pattern_with_special_characters_matches_literally() -> None:
    routes = table(("GET", "", "/v1/:x", {"path_kind": "exact"}))
    assert routes.match("GET", "h", "/v1/:x").match is Match.FULL
    assert routes.match("GET", "h", "/v1/y").match is Match.NONE


def test_no_route_is_none() -> None:
    assert table().match("GET", "h", "/") == RouteMatch(Match.NONE)
    assert len(table()) == 0


# -- RouteTable.match: precedence ----------------------------------------------------------------


def test_exact_beats_param_beats_prefix() -> None:
    routes = table(("GET", "", "/u/*"), ("GET", "", "/u/:id"), ("GET", "", "/u/me"))
    assert winner(routes.match("GET", "h", "/u/me")) == "r2"
    assert winner(routes.match("GET", "h", "/u/42")) == "r1"
    assert winner(routes.match("GET", "h", "/u/42/x")) == "r0"


def test_more_leading_literal_segments_win_among_params() -> None:
    routes = table(("GET", "", "/:a/:b/:c"), ("GET", "", "/x/:b/:c"), ("GET", "", "/x/y/:c"))
    assert winner(routes.match("GET", "h", "/x/y/z")) == "r2"
    assert winner(routes.match("GET", "h", "/x/q/z")) == "r1"
    assert winner(routes.match("GET", "h", "/q/y/z")) == "r0"


def test_the_first_differing_segment_decides_between_params() -> None:
    # Both have one leading literal; at the second segment the literal beats the parameter.
    routes = table(("GET", "", "/a/:x/c"), ("GET", "", "/a/b/:y"))
    assert winner(routes.match("GET", "h", "/a/b/c")) == "r1"
    routes = table(("GET", "", "/a/:x/c"), ("GET", "", "/a/:y/:z"))
    assert winner(routes.match("GET", "h", "/a/b/c")) == "r0"


def test_the_longest_prefix_wins() -> None:
    routes = table((None, "", "/*"), (None, "", "/a/*"), (None, "", "/a/b/*"))
    assert (winner(found := routes.match("GET", "h", "/a/b/c")), found.rest) == ("r2", "c")
    assert winner(routes.match("GET", "h", "/a/b")) == "r1"
    assert winner(routes.match("GET", "h", "/b")) == "r0"


def test_host_buckets_strict_then_longer_wildcard_then_any() -> None:
    routes = table(
        ("GET", "", "/"),
        ("GET", "*.example.com", "/"),
        ("GET", "*.eu.example.com", "/"),
        ("GET", "shop.eu.example.com", "/"),
    )
    assert winner(routes.match("GET", "shop.eu.example.com", "/")) == "r3"
    assert winner(routes.match("GET", "a.b.eu.example.com", "/")) == "r2"
    assert winner(routes.match("GET", "eu.example.com", "/")) == "r1"
    assert winner(routes.match("GET", "example.com", "/")) == "r0"


def test_the_host_bucket_outranks_the_path_kind() -> None:
    routes = table(("GET", "", "/u/me"), ("GET", "api.example.com", "/*"))
    assert winner(routes.match("GET", "api.example.com", "/u/me")) == "r1"


def test_a_bucket_with_no_fitting_path_falls_through() -> None:
    routes = table(("GET", "api.example.com", "/v2/*"), ("GET", "", "/v1/x"))
    assert winner(routes.match("GET", "api.example.com", "/v1/x")) == "r1"


def test_a_method_mismatch_in_a_better_bucket_falls_through_to_a_route_that_allows_it() -> None:
    routes = table(("POST", "api.example.com", "/submit"), (None, "", "/*"))
    assert winner(routes.match("GET", "api.example.com", "/submit")) == "r1"


def test_a_method_mismatch_on_a_better_pattern_falls_through_within_a_bucket() -> None:
    routes = table(("GET", "", "/u/:id"), ("POST", "", "/:a/:b"))
    assert winner(routes.match("POST", "h", "/u/1")) == "r1"


def test_a_specific_method_beats_any_on_the_same_pattern() -> None:
    # Such a pair is a conflict and refused at write time; the table still answers the same
    # way on every node if two writers raced.
    routes = RouteTable.build([entry("b", None, "", "/x"), entry("a", "GET", "", "/x")])
    assert winner(routes.match("GET", "h", "/x")) == "a"
    assert winner(routes.match("POST", "h", "/x")) == "b"


def test_among_identical_conflicting_routes_the_smallest_id_wins() -> None:
    routes = RouteTable.build(
        [entry("r9", "GET", "", "/u/:name"), entry("r1", "GET", "", "/u/:id")]
    )
    found = routes.match("GET", "h", "/u/7")
    assert (winner(found), found.params) == ("r1", {"id": "7"})


def test_a_path_without_a_route_for_the_method_is_partial_with_allow() -> None:
    routes = table(("GET", "", "/x"), ("POST", "", "/x"), ("DELETE", "", "/:p"), ("GET", "", "/y"))
    assert routes.match("PUT", "h", "/x") == RouteMatch(
        Match.PARTIAL, allow=("DELETE", "GET", "HEAD", "POST")
    )


def test_allow_gathers_every_host_bucket() -> None:
    routes = table(("POST", "api.example.com", "/x"), ("PUT", "*.example.com", "/x"))
    assert routes.match("GET", "api.example.com", "/x").allow == ("POST", "PUT")
    assert routes.match("GET", "www.example.com", "/x").allow == ("PUT",)
    assert routes.match("GET", "example.com", "/x").match is Match.NONE


def test_head_is_answered_by_get_routes_unless_a_head_route_exists() -> None:
    routes = table(("GET", "", "/x"), ("GET", "", "/y"), ("HEAD", "", "/y"))
    assert winner(routes.match("HEAD", "h", "/x")) == "r0"
    assert winner(routes.match("HEAD", "h", "/y")) == "r2"
    assert table(("HEAD", "", "/x")).match("GET", "h", "/x").allow == ("HEAD",)


def test_methods_are_case_sensitive_at_request_time() -> None:
    found = table(("GET", "", "/x")).match("get", "h", "/x")
    assert (found.match, found.allow) == (Match.PARTIAL, ("GET", "HEAD"))


def test_an_any_route_never_yields_partial() -> None:
    found = table((None, "", "/x")).match("BREW", "h", "/x")
    assert (found.match, winner(found)) == (Match.FULL, "r0")


def test_a_table_with_ten_thousand_routes_finds_each_kind() -> None:
    entries = [entry(f"e{i:05}", "GET", "", f"/exact/{i}") for i in range(4_000)]
    entries += [entry(f"p{i:05}", "GET", "", f"/p{i}/:id/x/:n") for i in range(3_000)]
    entries += [entry(f"f{i:05}", "GET", "", f"/files/{i}/*") for i in range(2_000)]
    entries += [entry(f"h{i:05}", "GET", f"h{i}.example.com", "/") for i in range(1_000)]
    routes = RouteTable.build(entries)
    assert len(routes) == 10_000
    assert winner(routes.match("GET", "x", "/exact/3999")) == "e03999"
    assert routes.match("GET", "x", "/p2999/7/x/8").params == {"id": "7", "n": "8"}
    assert routes.match("GET", "x", "/files/1999/a/b").rest == "a/b"
    assert winner(routes.match("GET", "h999.example.com", "/")) == "h00999"
    assert routes.match("GET", "x", "/exact/4000").match is Match.NONE
    assert routes.match("POST", "x", "/exact/1").allow == ("GET", "HEAD")


def test_build_refuses_a_malformed_stored_spec() -> None:
    spec = RouteSpec("GET", "", "any", "/files", "prefix")
    with pytest.raises(RouteError, match=re.escape("must end with '/*'")):
        RouteTable.build([RouteEntry("r", "s", spec)])


# -- properties ----------------------------------------------------------------------------------

LITERALS = ["a", "b"]
METHODS = [None, "GET", "POST", "HEAD"]
ROUTE_HOSTS = ["", "x.b.example.com", "b.example.com", "*.example.com", "*.b.example.com"]


@st.composite
def route_specs(
    draw: st.DrawFn,
    literals: list[str] = LITERALS,
    kinds: tuple[str, ...] = ("exact", "param", "prefix"),
    hosts: list[str] = ROUTE_HOSTS,
) -> RouteSpec:
    """Random valid specs over a tiny vocabulary, so that routes overlap often."""
    kind = draw(st.sampled_from(kinds))
    size = draw(st.integers(0 if kind != "param" else 1, 3))
    segments = [draw(st.sampled_from(literals)) for _ in range(size)]
    if kind == "param":
        positions = draw(st.sets(st.integers(0, size - 1), min_size=1))
        segments = [f":p{i}" if i in positions else s for i, s in enumerate(segments)]
    path = "/" + "/".join(segments)
    if kind == "prefix":
        path = path.rstrip("/") + "/*"
    elif kind == "exact" and segments and draw(st.booleans()):
        path += "/"
    method = draw(st.sampled_from(METHODS))
    # Every host is taken by the any bucket: weight it so that routes share buckets often.
    host = draw(st.one_of(st.just(""), st.sampled_from(hosts)))
    return parse_route(method, host, path)


def reference_match(entries: list[RouteEntry], method: str, host: str, path: str) -> RouteMatch:
    """SPEC 4 precedence, spelled out and slow: rank every route, take the best."""
    ranked, allow = [], set()
    for candidate in entries:
        spec = candidate.spec
        if spec.host_kind == "any":
            bucket = (2, 0)
        elif spec.host_kind == "strict" and host == spec.host:
            bucket = (0, 0)
        elif spec.host_kind == "wildcard" and host.endswith(spec.host[1:]):
            bucket = (1, -len(spec.host))
        else:
            continue
        params, rest = {}, None
        if spec.path_kind == "exact":
            if path != spec.path:
                continue
            kind, shape = 0, ()
        elif spec.path_kind == "prefix":
            base = spec.path[:-1]
            if not path.startswith(base):
                continue
            kind, shape, rest = 2, -len(base), path[len(base) :]
        else:
            pattern, actual = spec.path.split("/"), path.split("/")
            if len(pattern) != len(actual):
                continue
            fits = all(
                (p.startswith(":") and a) or p == a for p, a in zip(pattern, actual, strict=True)
            )
            if not fits:
                continue
            params = {p[1:]: a for p, a in zip(pattern, actual, strict=True) if p.startswith(":")}
            kind, shape = 1, tuple(p.startswith(":") for p in pattern)
        if spec.method == method:
            method_rank = 0
        elif method == "HEAD" and spec.method == "GET":
            method_rank = 1
        elif spec.method is None:
            method_rank = 2
        else:
            allow |= {spec.method, "HEAD"} if spec.method == "GET" else {spec.method}
            continue
        ranked.append(((bucket, kind, shape, method_rank, candidate.id), candidate, params, rest))
    if ranked:
        _, best, params, rest = min(ranked, key=lambda item: item[0])
        return RouteMatch(Match.FULL, best, params, rest)
    if allow:
        return RouteMatch(Match.PARTIAL, allow=tuple(sorted(allow)))
    return RouteMatch(Match.NONE)


@st.composite
def paths_of(
    draw: st.DrawFn, spec: RouteSpec, segment: st.SearchStrategy[str]
) -> tuple[str, dict[str, str], str | None]:
    """A request path the route takes, with the params and rest it should extract."""
    if spec.path_kind == "exact":
        return spec.path, {}, None
    if spec.path_kind == "prefix":
        rest = "/".join(draw(st.lists(segment, max_size=3)))
        return spec.path[:-1] + rest, {}, rest
    params, parts = {}, []
    for part in spec.path.split("/"):
        if part.startswith(":"):
            params[part[1:]] = part = draw(segment)
        parts.append(part)
    return "/".join(parts), params, None


REQUEST_HOSTS = ["x.b.example.com", "b.example.com", "y.x.b.example.com", "example.com", "o.org"]
# The routes' own literals, a miss ("c") and empty segments ("//", a trailing "/").
REQUEST_SEGMENTS = st.sampled_from([*LITERALS, "c", ""])
REQUEST_PATHS = st.lists(REQUEST_SEGMENTS, max_size=4).map(lambda parts: "/" + "/".join(parts))


def assert_agrees_with_the_reference(specs: list[RouteSpec], data: st.DataObject) -> None:
    entries = [RouteEntry(f"r{i:02}", "s", spec) for i, spec in enumerate(specs)]
    routes = RouteTable.build(entries)
    # Half the requests aim at a route, so that several routes compete for them.
    aimed = st.sampled_from(specs).flatmap(lambda spec: paths_of(spec, REQUEST_SEGMENTS))
    requests = st.tuples(
        st.sampled_from(["GET", "POST", "HEAD", "PUT"]),
        st.sampled_from(REQUEST_HOSTS),
        st.one_of(REQUEST_PATHS, aimed.map(lambda found: found[0])),
    )
    for method, host, path in data.draw(st.lists(requests, min_size=10, max_size=10)):
        assert routes.match(method, host, path) == reference_match(entries, method, host, path)


@settings(max_examples=150)
@given(specs=st.lists(route_specs(), min_size=5, max_size=40), data=st.data())
def test_the_table_agrees_with_the_reference_matcher(
    specs: list[RouteSpec], data: st.DataObject
) -> None:
    assert_agrees_with_the_reference(specs, data)


@settings(max_examples=150)
@given(
    specs=st.lists(route_specs(kinds=("param", "prefix"), hosts=[""]), min_size=2, max_size=15),
    data=st.data(),
)
def test_param_and_prefix_precedence_agrees_with_the_reference_matcher(
    specs: list[RouteSpec], data: st.DataObject
) -> None:
    assert_agrees_with_the_reference(specs, data)


SEGMENT_TEXT = st.text(st.characters(blacklist_characters="/", codec="utf-8"), min_size=1)


@given(spec=route_specs(literals=["a", "users", "ünï", "v1:x", "-"]), data=st.data())
def test_a_route_matches_every_path_built_from_it(spec: RouteSpec, data: st.DataObject) -> None:
    path, params, rest = data.draw(paths_of(spec, SEGMENT_TEXT))
    host = {"any": "any.host", "strict": spec.host}.get(spec.host_kind, "q" + spec.host[1:])
    method = spec.method or "PATCH"
    found = RouteTable.build([RouteEntry("only", "s", spec)]).match(method, host, path)
    assert (found.match, found.params, found.rest) == (Match.FULL, params, rest)


@given(first=route_specs(), second=route_specs())
def test_conflicts_are_symmetric(first: RouteSpec, second: RouteSpec) -> None:
    one_way = find_conflict(first, [RouteEntry("b", "s", second)]) is not None
    other_way = find_conflict(second, [RouteEntry("a", "s", first)]) is not None
    assert one_way == other_way


@given(first=route_specs(), second=route_specs(), method=st.sampled_from(["GET", "POST", "HEAD"]))
def test_routes_that_do_not_conflict_never_tie(
    first: RouteSpec, second: RouteSpec, method: str
) -> None:
    """Whenever both routes take a request, precedence prefers one of them regardless of ids."""
    if find_conflict(first, [RouteEntry("b", "s", second)]) is not None:
        return
    forward = RouteTable.build([RouteEntry("a", "s", first), RouteEntry("b", "s", second)])
    backward = RouteTable.build([RouteEntry("b", "s", first), RouteEntry("a", "s", second)])
    for host in REQUEST_HOSTS:
        for path in ("/", "/a", "/a/b", "/a/b/c", "/b/c/a/"):
            won = winner(forward.match(method, host, path))
            lost = winner(backward.match(method, host, path))
            assert {won, lost} <= {None} or (won == "a") == (lost == "b"), (host, path)
