"""The server's own log: plain text for a terminal, or one JSON object per line for collectors.

Every line written while a request is being handled carries that request's id, and on the data
plane its execution id (the same value: one execution per data-plane request), taken from context
variables set when the request arrives, so a log line can be joined with its request and its
execution record.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

execution_id_var: ContextVar[str | None] = ContextVar("picloud_execution_id", default=None)
request_id_var: ContextVar[str | None] = ContextVar("picloud_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class _RequestIdsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "execution_id"):
            record.execution_id = execution_id_var.get()
        return True


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        execution_id = getattr(record, "execution_id", None)
        if execution_id:
            return f"{line} [execution {execution_id}]"
        request_id = getattr(record, "request_id", None)
        return f"{line} [request {request_id}]" if request_id else line


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    """Send every logger (PiCloud's, uvicorn's, alembic's) through one handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(_TextFormatter(TEXT_FORMAT))
    handler.addFilter(_RequestIdsFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
