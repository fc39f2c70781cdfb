"""Read-only multi-value mappings for request headers and query strings.

A name may occur several times in a query string or in headers. Both mappings answer the first
value by default (`req.query["tag"]`, `req.query.get("tag")`, `dict(req.query)`), and every value
through `getlist`::

    >>> q = QueryParams.parse("tag=a&tag=b&empty=")
    >>> q["tag"], q.getlist("tag"), q.get("empty"), q.get("missing", "x")
    ('a', ['a', 'b'], '', 'x')
    >>> h = Headers([("Content-Type", "text/plain")])
    >>> h["content-type"], "CONTENT-TYPE" in h
    ('text/plain', True)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import parse_qsl


class MultiDict(Mapping[str, str]):
    """Ordered (name, value) pairs; mapping access gives the first value of a name."""

    __slots__ = ("_items", "_values")

    def __init__(self, items: Iterable[tuple[str, str]] = ()):
        self._items = [(self._key(name), value) for name, value in items]
        self._values: dict[str, list[str]] = {}
        for name, value in self._items:
            self._values.setdefault(name, []).append(value)

    @staticmethod
    def _key(name: str) -> str:
        return name

    def __getitem__(self, name: str) -> str:
        return self._values[self._key(name)][0]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def getlist(self, name: str) -> list[str]:
        """Every value of `name`, in order; empty when absent."""
        return list(self._values.get(self._key(name), ()))

    def multi_items(self) -> list[tuple[str, str]]:
        """Every (name, value) pair, in order, repeats included."""
        return list(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"


class Headers(MultiDict):
    """Request headers; names are case-insensitive and listed in lower case."""

    __slots__ = ()

    @staticmethod
    def _key(name: str) -> str:
        return name.lower()


class QueryParams(MultiDict):
    """The query string, decoded; blank values are kept as ''."""

    __slots__ = ()

    @classmethod
    def parse(cls, query_string: str) -> QueryParams:
        return cls(parse_qsl(query_string, keep_blank_values=True))
