"""Per-script execution limits: platform defaults, operator ceilings, validation.

A script asks for limits; anything it leaves out takes the platform default, and nothing may
exceed the operator's ceiling::

    >>> ceilings = Limits(timeout_ms=30_000)
    >>> resolve_limits({"timeout_ms": 500}, defaults=Limits(), ceilings=ceilings).timeout_ms
    500
    >>> resolve_limits({"timeout_ms": 60_000}, defaults=Limits(), ceilings=ceilings)
    Traceback (most recent call last):
    ...
    picloud.core.limits.LimitError: timeout_ms: requested 60000 exceeds the ceiling 30000
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Limits:
    timeout_ms: int = 5_000
    memory_mb: int = 128
    max_request_bytes: int = 1_048_576
    max_response_bytes: int = 5_242_880
    max_log_bytes: int = 65_536
    max_concurrency: int = 8

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


LIMIT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Limits))

#: Operator ceilings when no environment variable lowers or raises them.
DEFAULT_CEILINGS = Limits(
    timeout_ms=60_000,
    memory_mb=1_024,
    max_request_bytes=16_777_216,
    max_response_bytes=33_554_432,
    max_log_bytes=1_048_576,
    max_concurrency=64,
)

#: The smallest value that still makes sense for each field.
MINIMUMS = Limits(
    timeout_ms=10,
    memory_mb=64,
    max_request_bytes=0,
    max_response_bytes=0,
    max_log_bytes=0,
    max_concurrency=1,
)


class LimitError(ValueError):
    """A requested limit is unknown, not a whole number, too small, or above the ceiling."""

    def __init__(self, field: str, message: str, value: Any = None, ceiling: int | None = None):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.value = value
        self.ceiling = ceiling


def resolve_limits(
    requested: Mapping[str, Any] | None, *, defaults: Limits, ceilings: Limits
) -> Limits:
    """Merge `requested` over `defaults`, refusing unknown fields and values above `ceilings`."""
    requested = dict(requested or {})
    unknown = sorted(set(requested) - set(LIMIT_FIELDS))
    if unknown:
        raise LimitError(unknown[0], f"unknown limit (known: {', '.join(LIMIT_FIELDS)})")
    values: dict[str, int] = {}
    for name, value in requested.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise LimitError(name, f"must be a whole number, got {value!r}", value)
        minimum = getattr(MINIMUMS, name)
        if value < minimum:
            raise LimitError(name, f"requested {value} is below the minimum {minimum}", value)
        ceiling = getattr(ceilings, name)
        if value > ceiling:
            raise LimitError(
                name, f"requested {value} exceeds the ceiling {ceiling}", value, ceiling
            )
        values[name] = value
    merged = replace(defaults, **values)
    # A default above a lowered ceiling is clamped rather than making every script invalid.
    return Limits(**{n: min(getattr(merged, n), getattr(ceilings, n)) for n in LIMIT_FIELDS})
