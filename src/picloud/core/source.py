"""Script source checks made on save (SPEC section 5), before anything runs.

The source must fit in 1 MiB of UTF-8, compile, and define the handler at top level with a
signature the executor can call as `handler(req)` or `handler(req, ctx)`::

    >>> validate_source("def handle(req, ctx):\\n    return 'hi'\\n")
    >>> validate_source("def handle(req):\\n    return (\\n")
    Traceback (most recent call last):
    ...
    picloud.core.source.SourceError: line 2, column 12: '(' was never closed

The executor decides how to call a valid handler the same way: with `ctx` when the handler can
take a second positional argument, else with `req` alone.
"""

from __future__ import annotations

import ast
import keyword

MAX_SOURCE_BYTES = 1_048_576

_FILENAME = "<script>"


class SourceError(ValueError):
    """The source cannot be saved; `line` and `column` are 1-based when a place is known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        where = f"line {line}, column {column}: " if line and column else ""
        where = where or (f"line {line}: " if line else "")
        super().__init__(f"{where}{message}")
        self.message = message
        self.line = line
        self.column = column


def validate_source(source: str, handler: str = "handle") -> None:
    """Raise `SourceError` unless `source` is a script whose `handler` the executor can call.

    >>> validate_source("async def main(req):\\n    return 'hi'\\n", handler="main")
    >>> validate_source("def main():\\n    return 'hi'\\n", handler="main")
    Traceback (most recent call last):
    ...
    picloud.core.source.SourceError: line 1, column 1: handler 'main' must take (req) or (req, ctx)
    """
    if not isinstance(handler, str) or not handler.isidentifier() or keyword.iskeyword(handler):
        raise SourceError(f"handler {handler!r} is not a Python function name")
    if not isinstance(source, str):
        raise SourceError(f"source must be text, not {type(source).__name__}")
    try:
        size = len(source.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise SourceError(f"source is not valid Unicode text: {exc.reason}") from None
    if size > MAX_SOURCE_BYTES:
        raise SourceError(f"source is {size} bytes; the limit is {MAX_SOURCE_BYTES} bytes (1 MiB)")
    module = _compile(source)
    _check_handler(module, handler)


def _compile(source: str) -> ast.Module:
    """Parse, then compile the tree: some errors ('return' outside a function, a misplaced
    'nonlocal') only show up when bytecode is generated."""
    try:
        module = compile(source, _FILENAME, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
        compile(module, _FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise SourceError(exc.msg, exc.lineno, exc.offset) from None
    except ValueError as exc:  # null bytes in the source
        raise SourceError(str(exc)) from None
    except (RecursionError, MemoryError):
        raise SourceError("source is nested too deeply to compile") from None
    return module


def _check_handler(module: ast.Module, handler: str) -> None:
    # The last top-level definition is the one the module ends up with.
    definitions = [
        node
        for node in module.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == handler
    ]
    if not definitions:
        raise SourceError(
            f"no top-level function {handler!r}: define 'def {handler}(req, ctx):' "
            "at the top level of the script"
        )
    function = definitions[-1]
    if not _callable_with_req(function.args):
        raise SourceError(
            f"handler {handler!r} must take (req) or (req, ctx)",
            function.lineno,
            function.col_offset + 1,
        )


def _callable_with_req(arguments: ast.arguments) -> bool:
    """True when a call with one or two positional arguments fits the signature.

    Extra parameters with defaults, `*args` and `**kwargs` are fine: the executor passes one or
    two positional arguments and nothing else, so only required extras could break the call.
    """
    positional = len(arguments.posonlyargs) + len(arguments.args)
    required = positional - len(arguments.defaults)
    required_keywords = any(default is None for default in arguments.kw_defaults)
    takes_one_or_two = required <= 2 and (positional >= 1 or arguments.vararg is not None)
    return takes_one_or_two and not required_keywords
