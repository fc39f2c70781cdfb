"""The worked examples in the docstrings of `picloud.core` modules stay true."""

from __future__ import annotations

import doctest

import pytest

from picloud.core import domains, param_names, routes, slugs, source


@pytest.mark.parametrize("module", [domains, param_names, routes, slugs, source])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
