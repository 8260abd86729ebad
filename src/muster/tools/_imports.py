"""Import statements a serialised function needs (AutoGen: ``autogen_core.code_executor.Import``).

A :class:`~muster.tools.FunctionTool` dumped as source code carries the imports its body
uses, so that loading it can recreate them. The JSON shapes match AutoGen's dataclasses,
so specs written by AutoGen load unchanged.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = ["Alias", "Import", "ImportFromModule", "import_to_str"]


class Alias(BaseModel):
    """``import name as alias`` (or, inside :class:`ImportFromModule`, ``name as alias``)."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    alias: str


class ImportFromModule(BaseModel):
    """``from module import a, b as c``."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    module: str
    imports: tuple[str | Alias, ...]

    @field_validator("imports", mode="before")
    @classmethod
    def _accept_list(cls, value: object) -> object:
        # JSON has no tuples; AutoGen specs store the names as a list.
        return tuple(value) if isinstance(value, list) else value


Import = str | ImportFromModule | Alias
"""A module name (``"json"``), an aliased import, or a from-import."""


def _name_to_str(item: str | Alias) -> str:
    return item if isinstance(item, str) else f"{item.name} as {item.alias}"


def import_to_str(statement: Import) -> str:
    """The Python source of one import statement."""
    if isinstance(statement, str):
        return f"import {statement}"
    if isinstance(statement, Alias):
        return f"import {statement.name} as {statement.alias}"
    names = ", ".join(_name_to_str(item) for item in statement.imports)
    return f"from {statement.module} import {names}"
