"""Routes: which script of an app answers a (method, host, path) request (SPEC section 4).

A route is parsed once when it is written, checked against the app's other routes and claims,
and indexed in the app's `RouteTable`, which answers like Starlette's router: FULL (a route
takes the request), PARTIAL (the path exists but not for this method: 405) or NONE (404)::

    >>> table = RouteTable.build([
    ...     RouteEntry("r1", "s1", parse_route("GET", "", "/users/:id")),
    ...     RouteEntry("r2", "s2", parse_route(None, "", "/files/*")),
    ... ])
    >>> table.match("GET", "example.com", "/users/42").params
    {'id': '42'}
    >>> table.match("POST", "example.com", "/files/css/a.css").rest
    'css/a.css'
    >>> table.match("POST", "example.com", "/users/42").allow
    ('GET', 'HEAD')

Every rule and each choice the SPEC leaves open is written down in `docs/routing.md`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from picloud.core.domains import DomainClaim, DomainError, parse_claim
from picloud.core.param_names import is_param_name

HostKind = Literal["any", "strict", "wildcard"]
PathKind = Literal["exact", "prefix", "param"]

HOST_KINDS: tuple[str, ...] = ("any", "strict", "wildcard")
PATH_KINDS: tuple[str, ...] = ("exact", "prefix", "param")

#: Refused with everything below them: `/api/` itself and `/api/x`, but not `/api` or `/apis`.
RESERVED_SUBTREES: tuple[str, ...] = ("/api/", "/admin/", "/static/")
#: Refused as a whole segment and everything below it: `/healthz`, `/healthz/x`, not `/healthzz`.
RESERVED_SEGMENTS: tuple[str, ...] = ("/healthz", "/version", "/metrics")

_ANY_METHOD = ("", "ANY", "*")
# RFC 9110 token characters: what an HTTP method may be made of.
_METHOD_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Z]+")
# Whitespace and controls are typos, '?' and '#' never reach the path, and '%' means the pattern
# was written percent-encoded although routes match the decoded path.
_FORBIDDEN_PATH_CHAR = re.compile(r"[\s\x00-\x1f\x7f?#%]")


class RouteError(ValueError):
    """A route is invalid; `field` names the input at fault (method, host, path, host_kind,
    path_kind) and the message says what is wrong."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RouteSpec:
    """A validated route pattern. `method` None means ANY; `host` '' means every claimed host;
    a wildcard host is stored as `*.suffix`; a prefix path as written (`/files/*`)."""

    method: str | None
    host: str
    host_kind: HostKind
    path: str
    path_kind: PathKind


@dataclass(frozen=True)
class RouteEntry:
    id: str
    script_id: str
    spec: RouteSpec


def parse_route(
    method: str | None,
    host: str,
    path: str,
    host_kind: str | None = None,
    path_kind: str | None = None,
) -> RouteSpec:
    """Validate and normalise a route as an admin wrote it, or raise `RouteError`.

    Kinds are inferred from the patterns unless given; a given path kind wins, so a literal
    path can hold ':' or '*'.

    >>> spec = parse_route("get", "*.Example.com", "/users/:id")
    >>> spec.method, spec.host, spec.host_kind, spec.path_kind
    ('GET', '*.example.com', 'wildcard', 'param')
    >>> parse_route("ANY", "", "/v1/:x", path_kind="exact").path_kind
    'exact'
    """
    verb = _parse_method(method)
    host, host_kind = _parse_host(host, host_kind)
    path_kind = _parse_path(path, path_kind)
    return RouteSpec(verb, host, host_kind, path, path_kind)


def _parse_method(method: str | None) -> str | None:
    if method is None:
        return None
    if not isinstance(method, str):
        raise RouteError("method", f"method must be a string or null, not {type(method).__name__}")
    verb = method.upper()
    if verb in _ANY_METHOD:
        return None
    if not _METHOD_TOKEN.fullmatch(verb):
        raise RouteError(
            "method",
            f"method {method!r} is not an HTTP method: use a verb such as GET, or ANY",
        )
    return verb


def _parse_host(host: str | None, host_kind: str | None) -> tuple[str, HostKind]:
    if host_kind is not None and host_kind not in HOST_KINDS:
        raise RouteError(
            "host_kind", f"host_kind must be one of {', '.join(HOST_KINDS)}, not {host_kind!r}"
        )
    if host is None:
        host = ""
    if not isinstance(host, str):
        raise RouteError("host", f"host must be a string, not {type(host).__name__}")
    text = host.strip()
    inferred: HostKind
    if text in ("", "*"):
        inferred = "any"
    elif text.startswith("*."):
        inferred = "wildcard"
    else:
        inferred = "strict"
    if host_kind is not None and host_kind != inferred:
        raise RouteError(
            "host_kind",
            f"host_kind {host_kind!r} does not fit host {host!r}: '' is any host, "
            "'*.example.com' a wildcard, anything else one strict host",
        )
    if inferred == "any":
        return "", inferred
    try:
        claim = parse_claim(text)
    except DomainError as exc:
        raise RouteError("host", str(exc)) from None
    if claim.shape == "param":
        raise RouteError(
            "host",
            f"route host {host!r} cannot bind a name: claim '{{name}}.suffix' for the app "
            "and give the route the host '*.suffix' (or '')",
        )
    return claim.pattern, inferred


def _parse_path(path: str, path_kind: str | None) -> PathKind:
    if path_kind is not None and path_kind not in PATH_KINDS:
        raise RouteError(
            "path_kind", f"path_kind must be one of {', '.join(PATH_KINDS)}, not {path_kind!r}"
        )
    if not isinstance(path, str):
        raise RouteError("path", f"path must be a string, not {type(path).__name__}")
    if not path.startswith("/"):
        raise RouteError("path", f"path {path!r} must start with '/'")
    bad = _FORBIDDEN_PATH_CHAR.search(path)
    if bad:
        raise RouteError(
            "path",
            f"path {path!r} contains {bad.group()!r}: patterns match the percent-decoded path "
            "and hold no whitespace, control characters, '?', '#' or '%'",
        )
    reserved = _reserved_root(path)
    if reserved:
        raise RouteError("path", f"path {path!r} is inside {reserved!r}, which the platform owns")
    kind = path_kind or _infer_path_kind(path)
    _compile_path(path, kind, inferred=path_kind is None)
    return kind


def _reserved_root(path: str) -> str | None:
    for root in RESERVED_SUBTREES:
        if path.startswith(root):
            return root
    for root in RESERVED_SEGMENTS:
        if path == root or path.startswith(root + "/"):
            return root
    return None


def _infer_path_kind(path: str) -> PathKind:
    if path.endswith("/*"):
        return "prefix"
    if any(segment.startswith(":") for segment in path.split("/")):
        return "param"
    return "exact"


class _Pattern(NamedTuple):
    """A path pattern ready for indexing.

    `key` is what two routes must share to collide: the path (exact), the base with its
    trailing slash (prefix), or the segments with None at each parameter (param).
    """

    kind: PathKind
    key: str | tuple[str | None, ...]
    names: tuple[str, ...] = ()


def _compile_path(path: str, kind: str, *, inferred: bool = False) -> _Pattern:
    """Check a path pattern's structure and compile it; `inferred` forbids a stray '*'.

    >>> _compile_path("/u/:id/files", "param")
    _Pattern(kind='param', key=('u', None, 'files'), names=('id',))
    >>> _compile_path("/files/*", "prefix")
    _Pattern(kind='prefix', key='/files/', names=())
    """
    if kind == "prefix":
        if not path.endswith("/*"):
            raise RouteError(
                "path_kind", f"prefix path {path!r} must end with '/*', as in '/files/*'"
            )
        base = path[:-1]
        segments = base[1:-1].split("/") if base != "/" else []
        if inferred and any(segment.startswith(":") for segment in segments):
            raise RouteError(
                "path", f"path {path!r} mixes ':name' parameters with a '/*' prefix; pick one"
            )
        _check_segments(path, segments, inferred)
        return _Pattern("prefix", base)
    segments = path[1:].split("/")
    if kind == "exact":
        # A trailing slash is allowed (and makes a different route); '/' is the root.
        _check_segments(path, segments[:-1], inferred)
        _check_segments(path, segments[-1:], inferred, allow_empty=True)
        return _Pattern("exact", path)
    if kind != "param":
        raise RouteError("path_kind", f"path_kind must be one of {', '.join(PATH_KINDS)}")
    _check_segments(path, segments, inferred)
    names = tuple(segment[1:] for segment in segments if segment.startswith(":"))
    if not names:
        raise RouteError("path_kind", f"param path {path!r} has no ':name' segment")
    for name in names:
        if not is_param_name(name):
            raise RouteError(
                "path",
                f"path {path!r}: parameter name {name!r} must be a letter or '_' followed by "
                "letters, digits or '_'",
            )
    if len(set(names)) != len(names):
        raise RouteError("path", f"path {path!r} uses a parameter name twice")
    key = tuple(None if segment.startswith(":") else segment for segment in segments)
    return _Pattern("param", key, names)


def _check_segments(
    path: str, segments: list[str], inferred: bool, *, allow_empty: bool = False
) -> None:
    for segment in segments:
        if not segment and not allow_empty:
            raise RouteError("path", f"path {path!r} has an empty segment ('//' or a trailing '/')")
        if segment in (".", ".."):
            raise RouteError("path", f"path {path!r} has a '{segment}' segment")
        if inferred and "*" in segment:
            raise RouteError(
                "path",
                f"path {path!r}: '*' may only end a prefix pattern ('/files/*'); "
                "give path_kind 'exact' for a literal '*'",
            )


def _bucket_key(spec: RouteSpec) -> tuple[str, str]:
    return spec.host_kind, spec.host


def _methods_overlap(first: str | None, second: str | None) -> bool:
    return first is None or second is None or first == second


def find_conflict(spec: RouteSpec, existing: Iterable[RouteEntry]) -> RouteEntry | None:
    """The first route of `existing` that `spec` collides with, or None.

    Two routes collide when they share the host bucket, their methods overlap (equal, or either
    ANY), and they have the same kind and the same pattern; param patterns compare with their
    parameter names ignored. Leave the route being edited out of `existing`.

    >>> users = RouteEntry("r1", "s1", parse_route("GET", "", "/u/:id"))
    >>> find_conflict(parse_route(None, "", "/u/:name"), [users]).id
    'r1'
    >>> find_conflict(parse_route("POST", "", "/u/:name"), [users]) is None
    True
    """
    pattern = _compile_path(spec.path, spec.path_kind)
    for entry in existing:
        other = entry.spec
        if (
            _bucket_key(other) == _bucket_key(spec)
            and _methods_overlap(other.method, spec.method)
            and other.path_kind == spec.path_kind
            and _compile_path(other.path, other.path_kind).key == pattern.key
        ):
            return entry
    return None


def host_is_covered(spec: RouteSpec, claims: Iterable[DomainClaim]) -> bool:
    """True when the app's `claims` bring every host the route names to the app.

    >>> claims = [parse_claim("*.example.com")]
    >>> host_is_covered(parse_route("GET", "*.eu.example.com", "/"), claims)
    True
    >>> host_is_covered(parse_route("GET", "example.com", "/"), claims)
    False
    """
    if spec.host_kind == "any":
        return True
    wildcard = spec.host_kind == "wildcard"
    # A wildcard route host is covered by a claimed suffix equal to or above its own suffix.
    name = spec.host[1:] if wildcard else spec.host
    for claim in claims:
        if claim.shape == "exact":
            if not wildcard and claim.host == name:
                return True
        elif name.endswith(f".{claim.suffix}"):
            return True
    return False


class Match(enum.Enum):
    NONE = 0
    PARTIAL = 1  # a route's path fits but none allows the method: 405
    FULL = 2


@dataclass(frozen=True)
class RouteMatch:
    """The answer of `RouteTable.match`.

    `params` holds path captures, `rest` the remainder below a prefix route (no leading
    slash; '' for the prefix's own directory), `allow` the methods for a 405 (PARTIAL only).
    """

    match: Match
    entry: RouteEntry | None = None
    params: dict[str, str] = field(default_factory=dict)
    rest: str | None = None
    allow: tuple[str, ...] = ()


class _Target(NamedTuple):
    entry: RouteEntry
    names: tuple[str, ...]


class _Methods:
    """The routes sharing one pattern in one host bucket, by method."""

    __slots__ = ("allow", "any", "by_method")

    def __init__(self) -> None:
        self.by_method: dict[str, _Target] = {}
        self.any: _Target | None = None
        self.allow: set[str] = set()

    def add(self, target: _Target) -> None:
        # Entries arrive sorted by id, so if conflicting routes slipped in (two nodes writing
        # at once), the smaller id wins on every node.
        method = target.entry.spec.method
        if method is None:
            self.any = self.any or target
            return
        self.by_method.setdefault(method, target)
        self.allow.add(method)
        if method == "GET":
            self.allow.add("HEAD")

    def pick(self, method: str) -> _Target | None:
        target = self.by_method.get(method)
        if target is None and method == "HEAD":
            target = self.by_method.get("GET")
        return target or self.any


class _ParamNode:
    """A trie over param patterns: one level per path segment, literal children and one
    parameter child. Walking literals before the parameter yields matches in precedence order
    (a literal segment beats a parameter at the first position where two patterns differ)."""

    __slots__ = ("literals", "methods", "param")

    def __init__(self) -> None:
        self.literals: dict[str, _ParamNode] = {}
        self.param: _ParamNode | None = None
        self.methods: _Methods | None = None

    def insert(self, key: tuple[str | None, ...]) -> _Methods:
        node = self
        for literal in key:
            if literal is None:
                node.param = node.param or _ParamNode()
                node = node.param
            else:
                child = node.literals.get(literal)
                if child is None:
                    child = node.literals[literal] = _ParamNode()
                node = child
        node.methods = node.methods or _Methods()
        return node.methods

    def walk(self, segments: list[str]) -> Iterator[tuple[_Methods, tuple[str, ...]]]:
        """Patterns matching `segments`, best first, with the values their parameters capture.

        Depth first with an explicit stack: the parameter child is pushed before the literal
        child, so the literal subtree is explored first.
        """
        count = len(segments)
        stack: list[tuple[_ParamNode, int, tuple[str, ...]]] = [(self, 0, ())]
        while stack:
            node, index, values = stack.pop()
            if index == count:
                if node.methods is not None:
                    yield node.methods, values
                continue
            segment = segments[index]
            if node.param is not None and segment:  # a parameter never captures ''
                stack.append((node.param, index + 1, (*values, segment)))
            child = node.literals.get(segment)
            if child is not None:
                stack.append((child, index + 1, values))


class _Bucket:
    """The routes of one host bucket: exact paths by dict, param patterns in a trie, prefixes
    by base path (looked up by walking the request path's own prefixes, longest first)."""

    __slots__ = ("exact", "params", "prefixes")

    def __init__(self) -> None:
        self.exact: dict[str, _Methods] = {}
        self.params = _ParamNode()
        self.prefixes: dict[str, _Methods] = {}

    def add(self, entry: RouteEntry) -> None:
        pattern = _compile_path(entry.spec.path, entry.spec.path_kind)
        if pattern.kind == "param":
            methods = self.params.insert(pattern.key)
        else:
            index = self.exact if pattern.kind == "exact" else self.prefixes
            methods = index.get(pattern.key)
            if methods is None:
                methods = index[pattern.key] = _Methods()
        methods.add(_Target(entry, pattern.names))

    def candidates(self, path: str) -> Iterator[tuple[_Methods, tuple[str, ...], str | None]]:
        """Patterns matching `path`, best first, with captured values and prefix remainder."""
        methods = self.exact.get(path)
        if methods is not None:
            yield methods, (), None
        if self.params.literals or self.params.param:
            for methods, values in self.params.walk(path[1:].split("/")):
                yield methods, values, None
        if self.prefixes:
            end = len(path)
            while (slash := path.rfind("/", 0, end)) != -1:
                methods = self.prefixes.get(path[: slash + 1])
                if methods is not None:
                    yield methods, (), path[slash + 1 :]
                end = slash


class RouteTable:
    """One app's routes, indexed for lookups that never scan the whole table."""

    __slots__ = ("_any", "_size", "_strict", "_wildcard")

    def __init__(
        self,
        strict: dict[str, _Bucket],
        wildcard: dict[str, _Bucket],
        any_host: _Bucket,
        size: int,
    ):
        self._strict = strict
        self._wildcard = wildcard
        self._any = any_host
        self._size = size

    @classmethod
    def build(cls, entries: Iterable[RouteEntry]) -> RouteTable:
        """Index an app's routes; raises `RouteError` for a spec whose path is malformed."""
        strict: dict[str, _Bucket] = {}
        wildcard: dict[str, _Bucket] = {}
        any_host = _Bucket()
        ordered = sorted(entries, key=lambda entry: entry.id)
        for entry in ordered:
            spec = entry.spec
            if spec.host_kind == "any":
                bucket = any_host
            else:
                index, key = (
                    (strict, spec.host) if spec.host_kind == "strict" else (wildcard, spec.host[2:])
                )
                bucket = index.get(key)
                if bucket is None:
                    bucket = index[key] = _Bucket()
            bucket.add(entry)
        return cls(strict, wildcard, any_host, len(ordered))

    def match(self, method: str, host: str, path: str) -> RouteMatch:
        """Find the route for a request; `host` is normalised, `path` percent-decoded.

        The first route in precedence order whose path fits and that allows the method wins.
        When paths fit but no route allows the method, the answer is PARTIAL with every method
        those routes allow; this looks through all host buckets before giving a 405.

        >>> table = RouteTable.build([
        ...     RouteEntry("a", "s", parse_route("GET", "shop.example.com", "/")),
        ...     RouteEntry("b", "s", parse_route("POST", "", "/")),
        ... ])
        >>> table.match("GET", "shop.example.com", "/").entry.id
        'a'
        >>> table.match("POST", "shop.example.com", "/").entry.id
        'b'
        >>> table.match("PUT", "shop.example.com", "/").allow
        ('GET', 'HEAD', 'POST')
        """
        allow: set[str] = set()
        for bucket in self._buckets(host):
            for methods, values, rest in bucket.candidates(path):
                target = methods.pick(method)
                if target is not None:
                    params = dict(zip(target.names, values, strict=True))
                    return RouteMatch(Match.FULL, target.entry, params, rest)
                allow |= methods.allow
        if allow:
            return RouteMatch(Match.PARTIAL, allow=tuple(sorted(allow)))
        return RouteMatch(Match.NONE)

    def _buckets(self, host: str) -> Iterator[_Bucket]:
        bucket = self._strict.get(host)
        if bucket is not None:
            yield bucket
        if self._wildcard:
            dot = host.find(".")
            while dot != -1:  # suffixes from the longest down
                bucket = self._wildcard.get(host[dot + 1 :])
                if bucket is not None:
                    yield bucket
                dot = host.find(".", dot + 1)
        yield self._any

    def __len__(self) -> int:
        return self._size
