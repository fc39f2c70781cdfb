"""Domain claims and Host -> app resolution (SPEC section 3).

An app claims hosts with patterns; the orchestrator turns a request's Host header into the app
that owns it::

    >>> table = DomainTable.build([
    ...     (parse_claim("api.example.com"), "app-1"),
    ...     (parse_claim("{tenant}.example.com"), "app-2"),
    ... ])
    >>> table.resolve("API.Example.com:8443").app_id
    'app-1'
    >>> table.resolve("acme.example.com").bindings
    {'tenant': 'acme'}
    >>> table.resolve("example.com") is None
    True

Hosts and claims are compared in one normal form (`normalize_host`): lower case, no port, no
trailing dot, IDNA (UTS 46) A-labels, IPv6 literals in brackets and compressed.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import idna

from picloud.core.param_names import is_param_name

#: Longest DNS name in presentation form, without the trailing dot (RFC 1035).
MAX_HOST_LENGTH = 253
#: Longest raw input considered at all: room for a port, brackets and Unicode that maps to
#: fewer characters, while keeping what the cache below holds small.
MAX_RAW_HOST_LENGTH = 512

_LDH_LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LDH_NAME = re.compile(rf"{_LDH_LABEL}(?:\.{_LDH_LABEL})*")
_PORT = re.compile("[0-9]{0,5}")


class DomainError(ValueError):
    """A host or claim pattern is not usable; the message names the input and the problem."""


def normalize_host(host: str) -> str:
    """Return the normal form of a Host header value or host name, or raise `DomainError`.

    >>> normalize_host("Bücher.Example.COM.:8080")
    'xn--bcher-kva.example.com'
    >>> normalize_host("[0:0::1]:8080")
    '[::1]'
    """
    if not isinstance(host, str):
        raise DomainError(f"host must be a string, not {type(host).__name__}")
    if len(host) > MAX_RAW_HOST_LENGTH:
        raise DomainError(
            f"host {host[:40]!r}... is {len(host)} characters long; "
            f"the limit is {MAX_RAW_HOST_LENGTH}"
        )
    return _normalize(host)


# Browsers send a handful of distinct Host values, so the cache spares most requests the work;
# it is bounded because the header is client-controlled. Invalid hosts raise and stay uncached.
@functools.lru_cache(maxsize=4096)
def _normalize(host: str) -> str:
    text = host.strip()
    if not text.isascii():
        # Map first, so full-width dots and colons become '.' and ':' before we split on them.
        text = _idna_call(idna.uts46_remap, text, host, std3_rules=False)
    text = text.lower()
    if text.startswith("["):
        return _bracketed_ipv6(text, host)
    if text.count(":") > 1:
        return _ipv6(text, host)  # a bare IPv6 address cannot carry a port
    name, _, port = text.partition(":")
    if not _PORT.fullmatch(port):
        raise DomainError(f"host {host!r} has an invalid port {port!r}")
    name = name.removesuffix(".")
    if not name:
        raise DomainError(f"host {host!r} is empty")
    if len(name) <= MAX_HOST_LENGTH and "--" not in name and _LDH_NAME.fullmatch(name):
        return name  # plain ASCII letters, digits and hyphens: IDNA would return it unchanged
    if "" in name.split("."):
        raise DomainError(f"host {host!r} has an empty label")
    return _idna_call(idna.encode, name, host, uts46=True).decode("ascii")


def _idna_call(function: Callable[..., Any], text: str, original: str, **options: bool) -> Any:
    try:
        return function(text, **options)
    except UnicodeError as exc:  # idna.IDNAError and its subclasses
        raise DomainError(f"host {original!r} is not a valid domain name: {exc}") from None


def _bracketed_ipv6(text: str, original: str) -> str:
    address, closed, tail = text[1:].partition("]")
    has_port = tail.startswith(":") and _PORT.fullmatch(tail[1:])
    if not closed or (tail and not has_port):
        raise DomainError(f"host {original!r} is not a valid [IPv6]:port")
    return _ipv6(address, original)


def _ipv6(address: str, original: str) -> str:
    try:
        return f"[{ipaddress.IPv6Address(address).compressed}]"
    except ValueError:
        raise DomainError(f"host {original!r} is not a valid IPv6 address") from None


Shape = Literal["exact", "wildcard", "param"]


@dataclass(frozen=True)
class DomainClaim:
    """One parsed claim pattern.

    `pattern` is the normal form shown to users; `shape_key` is unique across all apps, and a
    parameterized claim has the same shape as a wildcard (`{t}.example.com` and `*.example.com`
    cannot both exist).
    """

    pattern: str
    shape: Shape
    host: str | None
    suffix: str | None
    binding: str | None
    shape_key: str


_WILDCARD_MARKS = ("*", "{", "}")


def parse_claim(pattern: str) -> DomainClaim:
    """Parse and normalise a claim pattern, or raise `DomainError`.

    >>> parse_claim("*.Example.com.").shape_key
    'wildcard:example.com'
    >>> claim = parse_claim("{tenant}.example.com")
    >>> claim.shape, claim.suffix, claim.binding, claim.shape_key
    ('param', 'example.com', 'tenant', 'wildcard:example.com')
    """
    if not isinstance(pattern, str):
        raise DomainError(f"domain pattern must be a string, not {type(pattern).__name__}")
    text = pattern.strip()
    first, _, rest = text.partition(".")
    if first == "*":
        shape: Shape = "wildcard"
        binding = None
    elif first.startswith("{") and first.endswith("}"):
        shape, binding = "param", first[1:-1]
        if not is_param_name(binding):
            raise DomainError(
                f"domain pattern {pattern!r}: binding name {binding!r} must be a letter or '_' "
                "followed by letters, digits or '_'"
            )
    elif any(mark in text for mark in _WILDCARD_MARKS):
        raise _misplaced_wildcard(pattern)
    else:
        host = normalize_host(text)
        return DomainClaim(host, "exact", host, None, None, f"exact:{host}")
    if any(mark in rest for mark in _WILDCARD_MARKS):
        raise _misplaced_wildcard(pattern)
    if not rest:
        raise DomainError(
            f"domain pattern {pattern!r} needs a domain after {first!r}, as in '*.example.com'"
        )
    suffix = normalize_host(rest)
    if suffix.startswith("[") or suffix.rpartition(".")[2].isdigit():
        raise DomainError(
            f"domain pattern {pattern!r}: a wildcard needs a domain name after it, "
            f"and {suffix!r} is (part of) an IP address"
        )
    return DomainClaim(f"{first}.{suffix}", shape, None, suffix, binding, f"wildcard:{suffix}")


def _misplaced_wildcard(pattern: str) -> DomainError:
    return DomainError(
        f"domain pattern {pattern!r}: '*' or '{{name}}' may only be the whole first label, "
        "as in '*.example.com' or '{tenant}.example.com'"
    )


@dataclass(frozen=True)
class HostMatch:
    """The app a host belongs to.

    `bindings` holds the parameterized claim's capture: everything left of the suffix, so
    `{tenant}.example.com` gives `{"tenant": "a.b"}` for `a.b.example.com`. `host` is the
    normalised host, ready for `RouteTable.match`.
    """

    app_id: str
    claim: DomainClaim
    bindings: dict[str, str]
    host: str


class DomainTable:
    """Every claim of every app, indexed for lookups that cost one dict probe per host label."""

    __slots__ = ("_exact", "_wildcard")

    def __init__(
        self,
        exact: dict[str, tuple[str, DomainClaim]],
        wildcard: dict[str, tuple[str, DomainClaim]],
    ):
        self._exact = exact
        self._wildcard = wildcard

    @classmethod
    def build(cls, claims: Iterable[tuple[DomainClaim, str]]) -> DomainTable:
        """Index `(claim, app_id)` pairs; two claims with one shape_key raise `DomainError`."""
        exact: dict[str, tuple[str, DomainClaim]] = {}
        wildcard: dict[str, tuple[str, DomainClaim]] = {}
        for claim, app_id in claims:
            index, key = (exact, claim.host) if claim.shape == "exact" else (wildcard, claim.suffix)
            if key in index:
                raise DomainError(
                    f"claim {claim.shape_key!r} is held by apps {index[key][0]!r} and {app_id!r}"
                )
            index[key] = (app_id, claim)
        return cls(exact, wildcard)

    def resolve(self, host: str) -> HostMatch | None:
        """The app claiming the raw Host header value `host`, or None (also for invalid hosts).

        An exact claim beats any wildcard; among wildcards the longest suffix wins.

        >>> table = DomainTable.build(
        ...     [(parse_claim("*.example.com"), "a"), (parse_claim("*.eu.example.com"), "b")]
        ... )
        >>> table.resolve("shop.eu.example.com").app_id, table.resolve("eu.example.com").app_id
        ('b', 'a')
        """
        try:
            name = normalize_host(host)
        except DomainError:
            return None
        hit = self._exact.get(name)
        if hit is not None:
            return HostMatch(hit[0], hit[1], {}, name)
        dot = name.find(".")
        while dot != -1:  # suffixes from the longest down
            hit = self._wildcard.get(name[dot + 1 :])
            if hit is not None:
                app_id, claim = hit
                bindings = {claim.binding: name[:dot]} if claim.binding else {}
                return HostMatch(app_id, claim, bindings, name)
            dot = name.find(".", dot + 1)
        return None

    def __len__(self) -> int:
        return len(self._exact) + len(self._wildcard)
