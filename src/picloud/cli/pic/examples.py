"""Worked examples shown under each command's `--help` and in docs/cli.md."""

from __future__ import annotations


def example(*commands: str) -> str:
    """A help epilog (Markdown) showing shell commands.

    >>> print(example("pic apps ls"))
    **Example**:
    <BLANKLINE>
    ```console
    $ pic apps ls
    ```
    """
    lines = "\n".join(f"$ {command}" for command in commands)
    heading = "Example" if len(commands) == 1 else "Examples"
    return f"**{heading}**:\n\n```console\n{lines}\n```"
