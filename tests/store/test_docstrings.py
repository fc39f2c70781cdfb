import doctest

import pytest

from picloud.store import database, executions


@pytest.mark.parametrize("module", [database, executions])
def test_worked_examples_in_docstrings_hold(module):
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
