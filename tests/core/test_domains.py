"""Domain claims and Host -> app resolution (SPEC section 3)."""

from __future__ import annotations

import re

import idna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from picloud.core.domains import (
    DomainClaim,
    DomainError,
    DomainTable,
    HostMatch,
    normalize_host,
    parse_claim,
)

# -- normalize_host ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("example.com", "example.com"),
        ("EXAMPLE.Com", "example.com"),
        ("example.com:8080", "example.com"),
        ("example.com:", "example.com"),
        ("example.com.", "example.com"),
        ("example.com.:443", "example.com"),
        ("  example.com  ", "example.com"),
        ("localhost", "localhost"),
        ("127.0.0.1:8080", "127.0.0.1"),
        ("[::1]", "[::1]"),
        ("[::1]:8080", "[::1]"),
        ("[0:0:0:0:0:0:0:1]:80", "[::1]"),
        ("[2001:DB8::1]", "[2001:db8::1]"),
        ("::1", "[::1]"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example:80", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("faß.de", "xn--fa-hia.de"),
        ("ＥＸＡＭＰＬＥ。com", "example.com"),
        ("example。com。", "example.com"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("a-b.c-d.e", "a-b.c-d.e"),
    ],
)
def test_normalize_host(raw: str, normal: str) -> None:
    assert normalize_host(raw) == normal


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (".", "empty"),
        (":8080", "empty"),
        ("a..b", "empty label"),
        ("a..", "empty label"),
        (".example.com", "empty label"),
        ("exa mple.com", "not a valid domain name"),
        ("exa_mple.com", "not a valid domain name"),
        ("*.example.com", "not a valid domain name"),
        ("-example.com", "not a valid domain name"),
        ("example-.com", "not a valid domain name"),
        ("ab--cd.com", "not a valid domain name"),
        ("xn--zz.com", "not a valid domain name"),
        ("a" * 64 + ".com", "not a valid domain name"),
        ("a." * 126 + "com", "not a valid domain name"),
        ("example.com:http", "invalid port"),
        ("example.com:123456", "invalid port"),
        ("[::1", "[IPv6]:port"),
        ("[::1]8080", "[IPv6]:port"),
        ("[::1]:x", "[IPv6]:port"),
        ("[example.com]", "IPv6"),
        ("a:b:c", "IPv6"),
    ],
)
def test_normalize_host_refuses_bad_hosts_naming_them(raw: str, problem: str) -> None:
    with pytest.raises(DomainError) as caught:
        normalize_host(raw)
    assert problem in str(caught.value)
    assert repr(raw) in str(caught.value)


def test_an_overlong_raw_host_is_refused_without_echoing_it() -> None:
    padded = "a" + "\u00ad" * 5_000 + ".example.com"  # soft hyphens, which IDNA would drop
    with pytest.raises(DomainError, match="is 5013 characters long; the limit is 512") as caught:
        normalize_host(padded)
    assert len(str(caught.value)) < 300


def test_normalize_host_refuses_a_non_string() -> None:
    with pytest.raises(DomainError, match="must be a string"):
        normalize_host(b"example.com")  # type: ignore[arg-type]


def test_a_name_of_253_characters_is_the_longest_allowed() -> None:
    longest = ".".join(["a" * 63] * 3 + ["b" * 61])
    assert len(longest) == 253
    assert normalize_host(longest) == longest
    with pytest.raises(DomainError):
        normalize_host(longest + "b")


_LABEL = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
_UNICODE_LABEL = st.text(alphabet="abcxyzäöüßéñ数字ＡＢ", min_size=1, max_size=8)
_HOST_NAMES = st.lists(st.one_of(_LABEL, _UNICODE_LABEL), min_size=1, max_size=5).map(".".join)
_RAW_HOSTS = st.builds(
    lambda name, dot, port: name + dot + port,
    _HOST_NAMES,
    st.sampled_from(["", ".", "。"]),
    st.sampled_from(["", ":80", ":", ":65535"]),
)


@given(st.one_of(_RAW_HOSTS, st.text(alphabet="aZ09.-:[]_*ü。 ", max_size=20)))
def test_normalisation_is_idempotent(raw: str) -> None:
    try:
        normal = normalize_host(raw)
    except DomainError:
        return
    assert normalize_host(normal) == normal
    assert normal == normal.lower() and normal.isascii()
    assert not normal.endswith(".")


@given(st.lists(_LABEL, min_size=1, max_size=6).map(".".join))
def test_plain_names_normalise_exactly_as_idna_encodes_them(name: str) -> None:
    assert normalize_host(name) == idna.encode(name, uts46=True).decode()


# -- parse_claim ---------------------------------------------------------------------------------


def test_an_exact_claim() -> None:
    assert parse_claim("API.Example.com.") == DomainClaim(
        pattern="api.example.com",
        shape="exact",
        host="api.example.com",
        suffix=None,
        binding=None,
        shape_key="exact:api.example.com",
    )


def test_a_wildcard_claim() -> None:
    assert parse_claim("*.Bücher.example:8080") == DomainClaim(
        pattern="*.xn--bcher-kva.example",
        shape="wildcard",
        host=None,
        suffix="xn--bcher-kva.example",
        binding=None,
        shape_key="wildcard:xn--bcher-kva.example",
    )


def test_a_parameterized_claim_keeps_its_binding_name_and_shares_the_wildcard_shape() -> None:
    claim = parse_claim("{tenantId}.Example.com")
    assert claim == DomainClaim(
        pattern="{tenantId}.example.com",
        shape="param",
        host=None,
        suffix="example.com",
        binding="tenantId",
        shape_key="wildcard:example.com",
    )
    assert claim.shape_key == parse_claim("*.example.com").shape_key


@pytest.mark.parametrize("pattern", ["localhost", "127.0.0.1", "[::1]", "*.localhost", "*.com"])
def test_claims_the_platform_needs_are_accepted(pattern: str) -> None:
    assert parse_claim(pattern).pattern == pattern


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("*", "needs a domain after '*'"),
        ("*.", "needs a domain after '*'"),
        ("{t}", "needs a domain after '{t}'"),
        ("*.1.2.3", "IP address"),
        ("*.0.1", "IP address"),
        ("{t}.168.1.1", "IP address"),
        ("*.[::1]", "IP address"),
        ("a.*.example.com", "whole first label"),
        ("*.*.example.com", "whole first label"),
        ("example.*", "whole first label"),
        ("*a.example.com", "whole first label"),
        ("a*.example.com", "whole first label"),
        ("a.{t}.example.com", "whole first label"),
        ("{t}.{u}.example.com", "whole first label"),
        ("{t}x.example.com", "whole first label"),
        ("{}.example.com", "binding name ''"),
        ("{2x}.example.com", "binding name '2x'"),
        ("{a-b}.example.com", "binding name 'a-b'"),
        ("*..example.com", "empty label"),
        ("", "empty"),
        ("exa mple.com", "not a valid domain name"),
    ],
)
def test_bad_claims_are_refused_with_the_reason(pattern: str, problem: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_claim(pattern)
    assert problem in str(caught.value)


def test_parse_claim_refuses_a_non_string() -> None:
    with pytest.raises(DomainError, match="must be a string"):
        parse_claim(None)  # type: ignore[arg-type]


# -- DomainTable ---------------------------------------------------------------------------------


def table_of(*pairs: tuple[str, str]) -> DomainTable:
    return DomainTable.build((parse_claim(pattern), app) for pattern, app in pairs)


def test_exact_claim_beats_wildcard() -> None:
    table = table_of(("*.example.com", "wild"), ("api.example.com", "exact"))
    assert table.resolve("api.example.com").app_id == "exact"
    assert table.resolve("www.example.com").app_id == "wild"


def test_longest_wildcard_suffix_wins() -> None:
    table = table_of(
        ("*.example.com", "short"), ("*.eu.example.com", "long"), ("*.com", "shortest")
    )
    assert table.resolve("shop.eu.example.com").app_id == "long"
    assert table.resolve("a.b.eu.example.com").app_id == "long"
    assert table.resolve("eu.example.com").app_id == "short"
    assert table.resolve("example.com").app_id == "shortest"
    assert table.resolve("com") is None


def test_a_wildcard_matches_deeper_hosts_but_not_its_apex() -> None:
    table = table_of(("*.example.com", "app"))
    assert table.resolve("a.example.com").app_id == "app"
    assert table.resolve("a.b.example.com").app_id == "app"
    assert table.resolve("example.com") is None
    assert table.resolve("badexample.com") is None


def test_resolve_normalises_the_raw_host_header() -> None:
    table = table_of(("xn--bcher-kva.example", "books"), ("[::1]", "v6"))
    match = table.resolve("BÜCHER.example.:8443")
    assert match == HostMatch(
        app_id="books",
        claim=parse_claim("bücher.example"),
        bindings={},
        host="xn--bcher-kva.example",
    )
    assert table.resolve("[0::1]:8080").app_id == "v6"


def test_a_parameterized_claim_binds_everything_left_of_its_suffix() -> None:
    table = table_of(("{tenant}.example.com", "saas"))
    assert table.resolve("acme.example.com").bindings == {"tenant": "acme"}
    assert table.resolve("eu.acme.example.com").bindings == {"tenant": "eu.acme"}
    assert table.resolve("example.com") is None


def test_a_plain_wildcard_binds_nothing() -> None:
    assert table_of(("*.example.com", "a")).resolve("x.example.com").bindings == {}


@pytest.mark.parametrize("host", ["", "a..example.com", "exa mple.com", "x" * 300, "[::1"])
def test_an_invalid_host_resolves_to_none(host: str) -> None:
    assert table_of(("*.example.com", "a"), ("localhost", "b")).resolve(host) is None


def test_two_claims_of_one_shape_cannot_share_a_table() -> None:
    with pytest.raises(
        DomainError, match=re.escape("'wildcard:example.com' is held by apps 'a' and 'b'")
    ):
        table_of(("*.example.com", "a"), ("{tenant}.example.com", "b"))
    with pytest.raises(DomainError, match=re.escape("'exact:example.com'")):
        table_of(("example.com", "a"), ("EXAMPLE.com.", "a"))


def test_len_counts_claims() -> None:
    assert len(table_of()) == 0
    assert len(table_of(("a.com", "x"), ("*.a.com", "x"), ("{t}.b.com", "y"))) == 3


def test_ten_thousand_claims_each_resolve_to_their_own_app() -> None:
    pairs = [(f"app{i}.example.com", f"exact-{i}") for i in range(5_000)]
    pairs += [(f"*.t{i}.example.net", f"wild-{i}") for i in range(5_000)]
    table = table_of(*pairs)
    assert len(table) == 10_000
    for i in range(0, 5_000, 97):
        assert table.resolve(f"app{i}.example.com").app_id == f"exact-{i}"
        assert table.resolve(f"x.y.t{i}.example.net").app_id == f"wild-{i}"
    assert table.resolve("app5000.example.com") is None


_SUFFIXES = st.lists(_LABEL, min_size=1, max_size=3).map(".".join).map(str.lower)
_SUFFIXES = _SUFFIXES.filter(lambda suffix: not suffix.rpartition(".")[2].isdigit())
_LEFT = st.lists(_LABEL, min_size=1, max_size=3).map(".".join)


@given(suffix=_SUFFIXES, left=_LEFT, binding=st.sampled_from([None, "tenant"]))
def test_a_wildcard_claim_resolves_hosts_below_it_and_never_its_suffix(
    suffix: str, left: str, binding: str | None
) -> None:
    pattern = f"{{{binding}}}.{suffix}" if binding else f"*.{suffix}"
    table = table_of((pattern, "app"))
    match = table.resolve(f"{left}.{suffix}")
    assert match is not None and match.app_id == "app"
    assert match.bindings == ({binding: left.lower()} if binding else {})
    assert table.resolve(suffix) is None


@given(host=_HOST_NAMES.filter(lambda name: name and name[-1] not in "."), upper=st.booleans())
def test_an_exact_claim_resolves_its_host_in_any_spelling(host: str, upper: bool) -> None:
    try:
        claim = parse_claim(host)
    except DomainError:
        return
    table = DomainTable.build([(claim, "app")])
    # Upper-case ASCII only: 'ß'.upper() is 'SS', which IDNA rightly treats as another name.
    spelled = "".join(c.upper() if upper and c.isascii() else c for c in host)
    spelling = spelled + ".:8080"
    assert table.resolve(spelling).app_id == "app"
