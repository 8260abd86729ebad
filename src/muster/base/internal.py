"""Saved-state helpers agents, conditions and teams share; not part of the user API.

Each package's ``internal`` module is its contract with the rest of muster (see
docs/architecture.md, "Imports between packages"): machinery with no AutoGen counterpart,
so it stays out of ``muster.base.__all__`` and may change without notice.
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

if TYPE_CHECKING:
    from ._saved_state import StatePlan, join_field, parse_state

__all__ = ["StatePlan", "join_field", "parse_state"]

_EXPORTS = {
    "StatePlan": "muster.base._saved_state",
    "join_field": "muster.base._saved_state",
    "parse_state": "muster.base._saved_state",
}
"""Name -> sub-module that defines it; imported on first access (see ``lazy_exports``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
