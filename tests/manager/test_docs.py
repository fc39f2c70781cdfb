"""docs/api.md stays true to the code: every operation is described and the problem table is
the ones generated from `picloud.manager.problems` and `picloud.core.problems`."""

from __future__ import annotations

from pathlib import Path

from picloud.core.problems import DATA_PLANE_PROBLEM_KINDS, problem_kinds_markdown
from picloud.manager.api import create_admin_api
from picloud.manager.problems import admin_problem_kinds_markdown

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_the_problem_tables_are_current():
    text = API_DOC.read_text()
    assert admin_problem_kinds_markdown() in text
    assert problem_kinds_markdown(DATA_PLANE_PROBLEM_KINDS) in text


def test_every_operation_is_documented(ctx):
    text = API_DOC.read_text()
    document = create_admin_api(ctx).openapi()
    missing = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if f"`{method.upper()} {path}`" not in text
    ]
    assert missing == []
