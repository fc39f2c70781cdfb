"""The context a handler receives as `ctx`: who is running, and a structured log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Receives (level, message, fields) for every log call; the worker runtime provides it.
LogSink = Callable[[str, str, dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class AppInfo:
    id: str
    slug: str


@dataclass(frozen=True, slots=True)
class ScriptInfo:
    id: str
    name: str
    version: int


class Log:
    """`ctx.log.info("greeting", name=name)`: a message plus structured fields.

    Lines go to the execution record; past the script's `max_log_bytes` they are cut and one
    marker line says so. Field values that are not JSON types are stored as their repr().
    """

    __slots__ = ("_sink",)

    def __init__(self, sink: LogSink):
        self._sink = sink

    def debug(self, message: object, **fields: Any) -> None:
        self._sink("debug", str(message), fields)

    def info(self, message: object, **fields: Any) -> None:
        self._sink("info", str(message), fields)

    def warning(self, message: object, **fields: Any) -> None:
        self._sink("warning", str(message), fields)

    def error(self, message: object, **fields: Any) -> None:
        self._sink("error", str(message), fields)


@dataclass(frozen=True, slots=True)
class Context:
    """`execution_id`, `app` (id, slug), `script` (id, name, version), `invocation` ("http" or
    "execute"; later "cron", "event"), `log`, and `sdk_version` ("major.minor")."""

    execution_id: str
    app: AppInfo
    script: ScriptInfo
    invocation: str
    log: Log
    sdk_version: str
