"""Saved-state and instrumentation helpers agents, conditions and teams share; not user API.

Each package's ``internal`` module is its contract with the rest of muster (see
docs/architecture.md, "Imports between packages"): machinery with no AutoGen counterpart,
so it stays out of ``muster.base.__all__`` and may change without notice.
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

if TYPE_CHECKING:
    from ._instrumentation import add_message_event, describe_participant
    from ._saved_state import StatePlan, join_field, parse_state

__all__ = ["StatePlan", "add_message_event", "describe_participant", "join_field", "parse_state"]

_EXPORTS = {
    "add_message_event": "muster.base._instrumentation",
    "describe_participant": "muster.base._instrumentation",
    "StatePlan": "muster.base._saved_state",
    "join_field": "muster.base._saved_state",
    "parse_state": "muster.base._saved_state",
}
"""Name -> sub-module that defines it; imported on first access (see ``lazy_exports``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
