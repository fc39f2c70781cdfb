"""Every worked example in a PiCloud docstring stays true.

Modules are found by walking the package, so a new module's examples are checked without anyone
remembering to list it.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import picloud


def modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(picloud.__path__, "picloud."):
        spec = importlib.util.find_spec(info.name)
        origin = spec.origin if spec else None
        if origin and origin.endswith(".py"):
            with open(origin, encoding="utf-8") as source:
                if ">>> " in source.read():
                    names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
