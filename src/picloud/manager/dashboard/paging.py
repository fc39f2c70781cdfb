"""Cutting a long listing into numbered pages.

>>> paged = one_page(list(range(250)), "3", per_page=100)
>>> paged.items[0], paged.number, paged.pages, paged.total
(200, 3, 3, 250)
>>> one_page([], "7", per_page=100).number, one_page(["a"], "x", per_page=100).number
(1, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Paged(Generic[T]):
    items: list[T]
    number: int
    pages: int
    total: int


def one_page(items: list[T], requested: str, *, per_page: int) -> Paged[T]:
    """Page `requested` (1-based, as typed in the URL) of `items`; out of range or not a number
    gives the nearest page."""
    pages = max(1, -(-len(items) // per_page))
    number = int(requested) if requested.isdigit() else 1
    number = min(max(number, 1), pages)
    start = (number - 1) * per_page
    return Paged(items[start : start + per_page], number, pages, len(items))
