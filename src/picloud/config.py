"""Server configuration, read once from environment variables and validated at start.

Every variable is declared in `SETTINGS`; `docs/configuration.md` is generated from that table
(`picloud config-docs`) and a test keeps the two equal. A bad value stops the server with one
line that names the variable and what it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from picloud.core.limits import DEFAULT_CEILINGS, LIMIT_FIELDS, Limits


class ConfigError(ValueError):
    """A variable has a value the server cannot use."""


@dataclass(frozen=True)
class Setting:
    env: str
    attr: str
    parse: Callable[[str], Any]
    default: Any
    accepts: str
    help: str


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError
    return value


def _bind(raw: str) -> tuple[str, int]:
    host, sep, port = raw.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError
    return host.strip("[]"), int(port)


def _database_url(raw: str) -> str:
    if not raw.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://", "postgres://")):
        raise ValueError
    return raw


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError
        return raw

    return parse


def _text(raw: str) -> str:
    return raw


def _host_list(raw: str) -> tuple[str, ...]:
    return tuple(h.strip().lower() for h in raw.split(",") if h.strip())


_LIMIT_HELP = {
    "timeout_ms": "wall-clock time for one invocation, in milliseconds",
    "memory_mb": "address space of one worker, in MiB",
    "max_request_bytes": "largest request body a script accepts",
    "max_response_bytes": "largest response body a script may return",
    "max_log_bytes": "log output kept per invocation before it is cut",
    "max_concurrency": "invocations of one script running at once",
}

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "PICLOUD_BIND", "bind", _bind, ("127.0.0.1", 8080), "HOST:PORT",
        "Address the server listens on.",
    ),
    Setting(
        "PICLOUD_DATA_DIR", "data_dir", Path, Path("picloud-data"), "a directory path",
        "Where the embedded SQLite database and worker scratch space live.",
    ),
    Setting(
        "PICLOUD_DATABASE_URL", "database_url", _database_url, None,
        "sqlite:///PATH or postgresql://...",
        "Database to use; unset means SQLite in the data directory.",
    ),
    Setting(
        "PICLOUD_MAX_CONCURRENT_EXECUTIONS", "max_concurrent_executions", _positive_int, 32,
        "a whole number >= 1",
        "Global concurrency gate; requests beyond it get 503 with Retry-After.",
    ),
    Setting(
        "PICLOUD_WORKER_IDLE_SECONDS", "worker_idle_seconds", _positive_int, 60,
        "a whole number >= 1",
        "A warm worker with no work for this long is stopped.",
    ),
    Setting(
        "PICLOUD_WORKERS_PER_APP", "workers_per_app", _positive_int, 4, "a whole number >= 1",
        "Most worker processes one app may have at once.",
    ),
    Setting(
        "PICLOUD_SPARE_WORKERS", "spare_workers", _non_negative_int, 1, "a whole number >= 0",
        "Booted, not-yet-assigned sandboxed workers kept ready to cut cold starts.",
    ),
    Setting(
        "PICLOUD_SANDBOX", "sandbox", _choice("strict", "weak"), "strict", "strict or weak",
        "strict needs bubblewrap and seccomp; weak runs workers without them (development only).",
    ),
    Setting(
        "PICLOUD_LOG_RETENTION_COUNT", "log_retention_count", _positive_int, 1_000,
        "a whole number >= 1", "Execution records kept per script.",
    ),
    Setting(
        "PICLOUD_LOG_RETENTION_DAYS", "log_retention_days", _positive_int, 7,
        "a whole number >= 1", "Execution records older than this are deleted.",
    ),
    Setting(
        "PICLOUD_LOG_FLUSH_MS", "log_flush_ms", _positive_int, 200, "a whole number >= 1",
        "Longest time an execution record waits in memory before it is written.",
    ),
    Setting(
        "PICLOUD_DRAIN_SECONDS", "drain_seconds", _positive_int, 30, "a whole number >= 1",
        "On SIGTERM, how long in-flight requests may take to finish.",
    ),
    Setting(
        "PICLOUD_SESSION_HOURS", "session_hours", _positive_int, 24, "a whole number >= 1",
        "Sliding lifetime of a dashboard or API session.",
    ),
    Setting(
        "PICLOUD_LOG_FORMAT", "log_format", _choice("text", "json"), "text", "text or json",
        "The server's own log: text for a terminal, json (one object per line) for collectors.",
    ),
    Setting(
        "PICLOUD_LOG_LEVEL", "log_level", _choice("debug", "info", "warning", "error"), "info",
        "debug, info, warning or error", "Least severe server log lines written.",
    ),
    Setting(
        "PICLOUD_ADMIN_HOSTS", "admin_hosts", _host_list, ("localhost", "127.0.0.1"),
        "comma-separated host names",
        "Hosts that serve the dashboard, the admin API and /metrics (and where / redirects to the "
        "dashboard); script answers on them run in a CSP sandbox.",
    ),
    Setting(
        "PICLOUD_ADMIN_USERNAME", "admin_username", _text, None, "a user name",
        "First owner's user name, used only while no admin user exists.",
    ),
    Setting(
        "PICLOUD_ADMIN_PASSWORD", "admin_password", _text, None, "a password",
        "First owner's password, used only while no admin user exists.",
    ),
    *(
        Setting(
            f"PICLOUD_DEFAULT_{name.upper()}", f"default_{name}", _positive_int,
            getattr(Limits(), name), "a whole number >= 1",
            f"Default {_LIMIT_HELP[name]}.",
        )
        for name in LIMIT_FIELDS
    ),
    *(
        Setting(
            f"PICLOUD_MAX_{name.upper()}", f"max_{name}", _positive_int,
            getattr(DEFAULT_CEILINGS, name), "a whole number >= 1",
            f"Ceiling on the {_LIMIT_HELP[name]}.",
        )
        for name in LIMIT_FIELDS
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def host(self) -> str:
        return self.bind[0]

    @property
    def port(self) -> int:
        return self.bind[1]

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{Path(self.data_dir).resolve() / 'picloud.db'}"

    @property
    def default_limits(self) -> Limits:
        return Limits(**{n: self.values[f"default_{n}"] for n in LIMIT_FIELDS})

    @property
    def limit_ceilings(self) -> Limits:
        return Limits(**{n: self.values[f"max_{n}"] for n in LIMIT_FIELDS})

    def replace(self, **changes: Any) -> Settings:
        unknown = set(changes) - {s.attr for s in SETTINGS}
        if unknown:
            raise AttributeError(f"unknown settings: {sorted(unknown)}")
        return Settings({**self.values, **changes})


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from `environ` (default: the process environment)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None or raw == "":
            values[setting.attr] = setting.default
            continue
        try:
            values[setting.attr] = setting.parse(raw)
        except ValueError:
            raise ConfigError(
                f"{setting.env}={raw!r} is not valid: expected {setting.accepts}"
            ) from None
    return Settings(values)


def configuration_markdown() -> str:
    """The configuration reference, as written to docs/configuration.md."""
    lines = [
        "# Configuration",
        "",
        "Generated from `picloud/config.py` by `picloud config-docs`; a test checks it is current.",
        "Every setting is an environment variable, read once at start. A bad value stops the",
        "server with one line naming the variable and what it accepts.",
        "",
        "| variable | default | accepts | meaning |",
        "| --- | --- | --- | --- |",
    ]
    for s in SETTINGS:
        default = s.default
        if isinstance(default, tuple) and s.attr == "bind":
            default = f"{default[0]}:{default[1]}"
        elif isinstance(default, tuple):
            default = ",".join(default)
        shown = "(unset)" if default is None else f"`{default}`"
        lines.append(f"| `{s.env}` | {shown} | {s.accepts} | {s.help} |")
    return "\n".join(lines) + "\n"
