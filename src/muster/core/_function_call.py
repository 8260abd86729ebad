"""A model's request to call a function (tool)."""

from dataclasses import dataclass

__all__ = ["FunctionCall"]


# A dataclass whose methods are written out: ``@dataclass`` generates and compiles them at
# import (about 0.25 ms per class, in every process). They are exactly what the decorator
# would generate (tests/core/test_handwritten_dataclasses.py).
@dataclass(init=False, repr=False, eq=False)
class FunctionCall:
    """One tool call requested by a model; ``arguments`` is the raw JSON text the model wrote."""

    id: str
    arguments: str
    name: str

    def __init__(self, id: str, arguments: str, name: str) -> None:
        self.id = id
        self.arguments = arguments
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(id={self.id!r}, arguments={self.arguments!r}, name={self.name!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (self.id, self.arguments, self.name) == (other.id, other.arguments, other.name)  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]
