"""ModelFamily: its constants and ``ANY``, the Literal of them that is built on first read."""

from __future__ import annotations

import ast
import inspect
from typing import Literal, get_args, get_origin

from muster.models import ModelFamily, _types


def _constants() -> tuple[str, ...]:
    return tuple(
        value for name, value in vars(ModelFamily).items() if name.isupper() and isinstance(value, str)
    )


def test_any_is_the_literal_of_every_family_constant_in_order() -> None:
    families = ModelFamily.ANY
    assert get_origin(families) is Literal
    assert get_args(families) == _constants()
    assert "gpt-4o" in get_args(families) and "unknown" in get_args(families)
    assert ModelFamily.ANY is families  # built once, then a plain class attribute
    assert families | str  # usable in annotations, as in AutoGen


def test_the_list_type_checkers_see_is_the_same() -> None:
    # The TYPE_CHECKING branch spells the Literal out for mypy; it must not drift.
    tree = ast.parse(inspect.getsource(_types))
    written = next(
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "ANY" for t in node.targets)
        and isinstance(node.value, ast.Subscript)
    )
    assert isinstance(written.slice, ast.Tuple)
    assert tuple(ast.literal_eval(element) for element in written.slice.elts) == _constants()
