"""A model's request to call a function (tool)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FunctionCall"]


@dataclass
class FunctionCall:
    """One tool call requested by a model; ``arguments`` is the raw JSON text the model wrote."""

    id: str
    arguments: str
    name: str
