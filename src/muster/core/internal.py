"""Core names other muster packages build on; not part of the user API.

Each package's ``internal`` module is its contract with the rest of muster (see
docs/architecture.md, "Imports between packages"): machinery with no AutoGen counterpart,
so it stays out of ``muster.core.__all__`` and may change without notice.
:func:`construct_trusted` builds muster's own messages from values it already typed. The tool protocol
is here because ``muster.models`` sits above ``muster.tools`` in the layer order; users
import those names from ``muster.tools``.

Lazy like the package: ``muster.agents`` imports :func:`lazy_exports` from here, and that
must not load the rest.
"""

from typing import TYPE_CHECKING

from ._lazy import LazyClassAttribute, lazy_exports

if TYPE_CHECKING:
    from ._cancellation_token import scoped_link
    from ._component_config import register_provider_alias
    from ._serialize_as_any import SerializeAsAny
    from ._tool_protocol import ParametersSchema, Tool, ToolSchema
    from ._trusted import construct_trusted

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

_EXPORTS = {
    "scoped_link": "muster.core._cancellation_token",
    "register_provider_alias": "muster.core._component_config",
    "ParametersSchema": "muster.core._tool_protocol",
    "SerializeAsAny": "muster.core._serialize_as_any",
    "Tool": "muster.core._tool_protocol",
    "ToolSchema": "muster.core._tool_protocol",
    "construct_trusted": "muster.core._trusted",
}
"""Name -> sub-module that defines it; imported on first access (see ``lazy_exports``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
