"""How `pic` shows results: Rich tables for people, JSON or TSV for scripts.

Data goes to stdout, everything else (confirmations, status lines, errors) to stderr, so
`pic ... -o json | jq` and `$(pic ... -o tsv)` always read clean data.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    tsv = "tsv"


def stdout_is_terminal() -> bool:
    """Whether a person is reading stdout (Rich's own test also says yes under FORCE_COLOR)."""
    try:
        return sys.stdout.isatty()
    except ValueError:  # closed
        return False


def default_format() -> OutputFormat:
    """Tables for a person at a terminal, JSON when the output goes to a pipe or a file."""
    return OutputFormat.table if stdout_is_terminal() else OutputFormat.json


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[dict[str, Any]], Any]

    @classmethod
    def of(cls, key: str, header: str | None = None) -> Column:
        return cls(header or key, lambda row: row.get(key))


def cell(value: Any) -> str:
    """One value as text for a table or TSV cell.

    >>> [cell(None), cell(["a", "b"]), cell(True), cell(3)]
    ['', 'a,b', 'yes', '3']
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ",".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def tsv_line(values: Iterable[Any]) -> str:
    """One TSV row; tabs and newlines inside values become spaces so rows stay rows.

    >>> tsv_line(["a", None, "b\\tc"])
    'a\\t\\tb c'
    """
    return "\t".join(cell(v).replace("\t", " ").replace("\n", " ") for v in values)


class Presenter:
    """Prints results in the chosen format; `out` is stdout, `err` is stderr."""

    def __init__(self, fmt: OutputFormat, out: Console, err: Console) -> None:
        self.format = fmt
        self.out = out
        self.err = err

    def rows(self, rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> None:
        if self.format is OutputFormat.json:
            self.json(list(rows))
        elif self.format is OutputFormat.tsv:
            for row in rows:
                self.line(tsv_line(c.value(row) for c in columns))
        else:
            table = Table(box=None, header_style="bold")
            for column in columns:
                # Fold rather than cut: an id with an ellipsis cannot be pasted back.
                table.add_column(column.header, overflow="fold")
            for row in rows:
                table.add_row(*(Text(cell(c.value(row))) for c in columns))
            self.out.print(table)

    def record(self, row: dict[str, Any], columns: Sequence[Column]) -> None:
        """One object: a field/value listing at a terminal, one row in TSV, the object in JSON."""
        if self.format is OutputFormat.json:
            self.json(row)
            return
        if self.format is OutputFormat.tsv:
            self.rows([row], columns)
            return
        table = Table(box=None, show_header=False)
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")
        for column in columns:
            table.add_row(column.header, Text(cell(column.value(row))))
        self.out.print(table)

    def json(self, data: Any) -> None:
        self.line(json.dumps(data, indent=2, ensure_ascii=False))

    def line(self, text: str) -> None:
        """Plain data on stdout, never wrapped or styled."""
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def note(self, text: str) -> None:
        """A message for the person on stderr (a confirmation, a hint, a status line)."""
        self.err.print(Text(text), highlight=False, soft_wrap=True)

    def error(self, text: str) -> None:
        self.err.print(Text(text, style="red"), highlight=False, soft_wrap=True)
