"""docs/api.md stays true to the code: every operation is described and the problem table is
the one generated from `picloud.manager.problems`."""

from __future__ import annotations

from pathlib import Path

from picloud.manager.api import create_admin_api
from picloud.manager.problems import problem_kinds_markdown

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_the_problem_table_is_current():
    assert problem_kinds_markdown() in API_DOC.read_text()


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
