"""docs/cli.md documents every `pic` command as the code defines it, each with an example."""

from __future__ import annotations

import typer

from picloud.cli.client import app
from picloud.cli.pic.reference import DOCS, MARKER, with_reference


def test_the_command_reference_is_current() -> None:
    document = DOCS.read_text()
    assert MARKER in document
    assert document == with_reference(document), (
        "docs/cli.md is out of date: run `.venv/bin/python -m picloud.cli.pic.reference`"
    )


def _leaf_commands(group, prefix: str = "pic"):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _leaf_commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}", command


def test_every_command_has_help_and_an_example() -> None:
    commands = dict(_leaf_commands(typer.main.get_command(app)))
    assert "pic deploy" in commands
    assert "pic keys mint" in commands
    for name, command in commands.items():
        assert command.help, f"{name} has no help text"
        assert f"$ {name}" in (command.epilog or ""), f"{name} has no example"


def test_the_scopes_named_in_help_are_the_servers() -> None:
    from picloud.manager.auth.principal import SCOPES

    mint = typer.main.get_command(app).commands["keys"].commands["mint"]
    [scope_option] = [p for p in mint.params if p.name == "scopes"]
    named = scope_option.help.removeprefix("Repeat for each: ").rstrip(".").split(", ")
    assert named == list(SCOPES)
