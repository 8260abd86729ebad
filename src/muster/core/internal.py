"""Core names other muster packages build on; not part of the user API.

Each package's ``internal`` module is its contract with the rest of muster (see
docs/architecture.md, "Imports between packages"): machinery with no AutoGen counterpart,
so it stays out of ``muster.core.__all__`` and may change without notice.
:func:`construct_trusted` builds muster's own messages from values it already typed. The tool protocol
is here because ``muster.models`` sits above ``muster.tools`` in the layer order; users
import those names from ``muster.tools``.

Lazy like the package: ``muster.agents`` imports :func:`lazy_exports` from here, and that
must not load the rest. The lazy machinery itself is defined here, not in a module of its
own that every process would load too (docs/performance.md, "Start-up").

**Lazy re-exports.** ``from muster.agents import AssistantAgent`` used to import every
sub-module of every package on the way (the runtime, the serialisation layer, all model
contexts, all agents...), most of which an application never touches. A package lists its
public names instead; each is imported from its sub-module on first access (PEP 562 module
``__getattr__``) and then cached in the package namespace, so later lookups are plain
attribute reads. Usage in a package ``__init__``::

    if TYPE_CHECKING:  # what mypy and IDEs see: ordinary imports
        from ._thing import Thing
    _EXPORTS = {"Thing": "._thing"}
    if not TYPE_CHECKING:  # hidden from mypy so a typo stays an error for users
        __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._cancellation_token import scoped_link
    from ._component_config import register_provider_alias
    from ._pydantic_shortcuts import SerializeAsAny, construct_trusted
    from ._tool_protocol import ParametersSchema, Tool, ToolSchema

__all__ = [
    "LazyClassAttribute",
    "ParametersSchema",
    "SerializeAsAny",
    "Tool",
    "ToolSchema",
    "construct_trusted",
    "lazy_exports",
    "register_provider_alias",
    "scoped_link",
]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` for ``package``.

    ``exports`` maps each public name to its sub-module: ``"._mod"`` (relative to ``package``) or absolute.
    """

    def __getattr__(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        # __import__, not importlib.import_module: the latter bypasses the C import path that
        # ``python -X importtime`` instruments, hiding lazily loaded modules from the profile.
        absolute = package + module_name if module_name.startswith(".") else module_name
        __import__(absolute)
        value = getattr(sys.modules[absolute], name)
        setattr(sys.modules[package], name, value)  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__


class LazyClassAttribute:
    """A class attribute whose value is imported from ``module`` on first access.

    For what a class must name but few processes use: ``component_config_schema`` is read
    only to dump or load a spec, and defining a config model costs about 0.5 ms of every
    process's start-up. The first access imports the value and puts it in the class in
    place of this descriptor, so later reads are plain class attribute reads.
    """

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name
        self._owner: type[Any] | None = None
        self._attribute = ""

    def __set_name__(self, owner: type[Any], attribute: str) -> None:
        self._owner = owner
        self._attribute = attribute

    def __get__(self, instance: object, owner: type[Any] | None = None) -> Any:
        # __import__, not importlib.import_module: see lazy_exports.
        __import__(self._module)
        value = getattr(sys.modules[self._module], self._name)
        if self._owner is not None:
            setattr(self._owner, self._attribute, value)
        return value


_EXPORTS = {
    "scoped_link": "muster.core._cancellation_token",
    "register_provider_alias": "muster.core._component_config",
    "ParametersSchema": "muster.core._tool_protocol",
    "SerializeAsAny": "muster.core._pydantic_shortcuts",
    "Tool": "muster.core._tool_protocol",
    "ToolSchema": "muster.core._tool_protocol",
    "construct_trusted": "muster.core._pydantic_shortcuts",
}
"""Name -> sub-module that defines it; imported on first access (see ``lazy_exports``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
