"""Script source checks on save (SPEC section 5)."""

from __future__ import annotations

import pytest

from picloud.core.source import MAX_SOURCE_BYTES, SourceError, validate_source

HELLO = """\
def handle(req, ctx):
    name = req.query.get("name", "world")
    return {"message": f"Hello, {name}!"}
"""


@pytest.mark.parametrize(
    "signature",
    [
        "def handle(req)",
        "def handle(req, ctx)",
        "async def handle(req)",
        "async def handle(req, ctx)",
        "def handle(req, ctx=None)",
        "def handle(req=None)",
        "def handle(req, ctx, extra=1)",
        "def handle(req, /, ctx)",
        "def handle(*args)",
        "def handle(req, *args, **kwargs)",
        "def handle(req, ctx, *, debug=False)",
    ],
)
def test_handlers_callable_with_req_or_req_and_ctx_are_accepted(signature: str) -> None:
    validate_source(f"{signature}:\n    return 'ok'\n")


@pytest.mark.parametrize(
    "signature",
    [
        "def handle()",
        "def handle(**kwargs)",
        "def handle(req, ctx, extra)",
        "def handle(a, b, c, d=1)",
        "def handle(req, *, required)",
        "def handle(*, req)",
    ],
)
def test_handlers_the_executor_cannot_call_are_refused_at_their_line(signature: str) -> None:
    source = f"import json\n\n{signature}:\n    return 'ok'\n"
    with pytest.raises(SourceError) as caught:
        validate_source(source)
    error = caught.value
    assert error.message == "handler 'handle' must take (req) or (req, ctx)"
    assert (error.line, error.column) == (3, 1)
    assert str(error) == "line 3, column 1: handler 'handle' must take (req) or (req, ctx)"


def test_the_hello_world_script_is_valid() -> None:
    validate_source(HELLO)


def test_a_custom_handler_name() -> None:
    validate_source("def main(req):\n    return 1\n", handler="main")
    with pytest.raises(SourceError, match="no top-level function 'main'"):
        validate_source(HELLO, handler="main")


def test_a_decorated_handler_counts() -> None:
    validate_source("import functools\n\n@functools.cache\ndef handle(req):\n    return 1\n")


def test_the_last_top_level_definition_decides() -> None:
    validate_source("def handle():\n    pass\n\ndef handle(req):\n    pass\n")
    with pytest.raises(SourceError) as caught:
        validate_source("def handle(req):\n    pass\n\ndef handle():\n    pass\n")
    assert caught.value.line == 4


@pytest.mark.parametrize(
    "source",
    [
        "",
        "x = 1\n",
        "handle = lambda req: req\n",
        "if True:\n    def handle(req):\n        pass\n",
        "class App:\n    def handle(self, req):\n        pass\n",
        "def outer():\n    def handle(req):\n        pass\n",
        "def handler(req):\n    pass\n",
    ],
)
def test_the_handler_must_be_a_top_level_def(source: str) -> None:
    with pytest.raises(SourceError) as caught:
        validate_source(source)
    assert "no top-level function 'handle'" in caught.value.message
    assert caught.value.line is None and caught.value.column is None


@pytest.mark.parametrize(
    ("source", "line", "column", "message"),
    [
        ("def handle(req):\n    return (\n", 2, 12, "'(' was never closed"),
        ("def handle(req)\n    return 1\n", 1, 16, "expected ':'"),
        ("def handle(req):\n    return 1\nreturn 2\n", 3, 1, "'return' outside function"),
        ("def handle(req):\n    await req\n", 2, 5, "'await' outside async function"),
        ("def handle(req):\n    nonlocal req\n", 2, 5, "is parameter and nonlocal"),
        ("x = 'é' +\n", 1, 10, "invalid syntax"),
    ],
)
def test_syntax_errors_carry_line_and_column(
    source: str, line: int, column: int, message: str
) -> None:
    with pytest.raises(SourceError) as caught:
        validate_source(source)
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert message in error.message
    assert str(error).startswith(f"line {line}, column {column}: ")


def test_indentation_errors_name_their_line() -> None:
    with pytest.raises(SourceError) as caught:
        validate_source("x = 1\n  y = 2\n")
    assert caught.value.line == 2
    assert caught.value.message == "unexpected indent"


def test_compiling_never_runs_the_script(tmp_path) -> None:
    marker = tmp_path / "ran"
    validate_source(f"open({str(marker)!r}, 'w').write('x')\n\ndef handle(req):\n    pass\n")
    assert not marker.exists()


def test_future_imports_of_the_platform_do_not_leak_into_scripts() -> None:
    # dont_inherit: this module's `from __future__ import annotations` must not change
    # what a script may contain.
    with pytest.raises(SourceError, match="from __future__ imports must occur"):
        validate_source("x = 1\nfrom __future__ import annotations\ndef handle(req): pass\n")


def test_null_bytes_are_refused() -> None:
    with pytest.raises(SourceError, match="null bytes"):
        validate_source("def handle(req):\n    return '\0'\n")


def test_the_size_limit_counts_utf8_bytes() -> None:
    body = "def handle(req):\n    return 1\n#"
    at_limit = body + "x" * (MAX_SOURCE_BYTES - len(body))
    validate_source(at_limit)
    with pytest.raises(SourceError, match=r"source is 1048577 bytes; the limit is 1048576"):
        validate_source(at_limit + "x")
    two_byte_chars = body + "é" * ((MAX_SOURCE_BYTES - len(body)) // 2 + 1)
    assert len(two_byte_chars) < MAX_SOURCE_BYTES
    with pytest.raises(SourceError, match="the limit is 1048576 bytes"):
        validate_source(two_byte_chars)


def test_lone_surrogates_are_not_text() -> None:
    with pytest.raises(SourceError, match="not valid Unicode"):
        validate_source("def handle(req):\n    return '\ud800'\n")


def test_absurd_nesting_is_a_clear_error() -> None:
    with pytest.raises(SourceError):
        validate_source("x = " + "-" * 200_000 + "1\ndef handle(req): pass\n")


@pytest.mark.parametrize("handler", ["", "2fast", "my-handler", "class", "handle()", None])
def test_the_handler_name_must_be_an_identifier(handler: str) -> None:
    with pytest.raises(SourceError, match="is not a Python function name"):
        validate_source(HELLO, handler=handler)


def test_source_must_be_text() -> None:
    with pytest.raises(SourceError, match="must be text"):
        validate_source(HELLO.encode())  # type: ignore[arg-type]


def test_source_error_is_a_value_error() -> None:
    assert issubclass(SourceError, ValueError)
