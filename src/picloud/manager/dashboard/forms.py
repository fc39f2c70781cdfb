"""Turning a refused write into messages next to the form fields that caused it."""

from __future__ import annotations

from collections.abc import Iterable

from picloud.manager.problems import Problem

#: The key of a message that belongs to the whole form rather than one field.
FORM = "form"


def field_errors(problem: Problem, fields: Iterable[str]) -> dict[str, str]:
    """`{field: detail}` when the problem names one of this form's fields, else `{FORM: detail}`.

    >>> from picloud.manager.problems import SLUG_INVALID, NOT_FOUND
    >>> field_errors(SLUG_INVALID("'A' is not a valid slug", field="slug"), ["slug", "name"])
    {'slug': "'A' is not a valid slug"}
    >>> field_errors(NOT_FOUND("no app"), ["slug"])
    {'form': 'no app'}
    """
    field = problem.fields.get("field")
    return {field if field in set(fields) else FORM: problem.detail}
