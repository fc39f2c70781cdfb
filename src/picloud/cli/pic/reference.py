"""The command reference in docs/cli.md, generated from the Typer app so it never drifts.

`python -m picloud.cli.pic.reference` rewrites everything below the marker line of docs/cli.md;
a test checks the file is current.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from typer.cli import get_docs_for_click

MARKER = "<!-- generated below by `python -m picloud.cli.pic.reference`; do not edit -->"
DOCS = Path(__file__).resolve().parents[4] / "docs" / "cli.md"


def reference_markdown() -> str:
    """Markdown for every `pic` command: usage, arguments, options and an example."""
    from picloud.cli.client import app

    command = typer.main.get_command(app)
    ctx = typer.Context(command, info_name="pic")
    text = get_docs_for_click(obj=command, ctx=ctx, name="pic", title="Command reference", indent=1)
    return text.strip() + "\n"


def with_reference(document: str) -> str:
    """`document` with the part below the marker replaced by the current reference."""
    head, found, _ = document.partition(MARKER)
    if not found:
        raise ValueError(f"the marker line is missing: {MARKER}")
    return f"{head}{MARKER}\n\n{reference_markdown()}"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS
    target.write_text(with_reference(target.read_text()))
