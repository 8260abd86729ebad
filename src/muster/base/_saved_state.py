"""Checking a saved state completely before loading it, and loading its parts all or nothing.

A durable run resumes a team from the state saved after its last turn. A state that does
not fit (another version, a hand-edited file, a team whose participants changed) must be
rejected with the path of the bad field, and must not leave the object half-restored:
the caller may catch the error and keep running with what it had. So every loader here
works in two phases. :func:`parse_state` and the ``_prepare_state`` hooks check the whole
state and return a :class:`StatePlan`; only :meth:`StatePlan.run` changes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from .exceptions import StateError

__all__ = [
    "STATE_VERSION",
    "Stateful",
    "StatePlan",
    "error_from_validation",
    "join_field",
    "nested_error",
    "parse_state",
]

STATE_VERSION = "1.0.0"
"""The format version every muster state is saved with, and the one AutoGen writes."""

StateT = TypeVar("StateT", bound=BaseModel)


class Stateful(Protocol):
    """Anything with the ``save_state``/``load_state`` pair (agents, conditions, contexts, teams)."""

    async def save_state(self) -> Mapping[str, Any]: ...  # noqa: D102

    async def load_state(self, state: Mapping[str, Any]) -> None: ...  # noqa: D102


def join_field(prefix: str, field: str | None) -> str:
    """``"conditions[1]"`` + ``"count"`` -> ``"conditions[1].count"`` (either may be empty)."""
    if not field:
        return prefix
    if not prefix:
        return field
    return f"{prefix}{field}" if field.startswith("[") else f"{prefix}.{field}"


def nested_error(error: StateError, prefix: str) -> StateError:
    """The same error, its field now a path from the enclosing state."""
    return StateError(error.detail, join_field(prefix, error.field) or None)


def _field_of(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path = join_field(path, f"[{part}]" if isinstance(part, int) else str(part))
    return path


def error_from_validation(error: ValidationError, prefix: str = "") -> StateError:
    """A StateError naming the first field pydantic rejected (and how many more there are)."""
    errors = error.errors(include_url=False)
    first = errors[0]
    detail = first["msg"]
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    return StateError(detail, join_field(prefix, _field_of(first["loc"])) or None)


def parse_state(
    model: type[StateT],
    state: object,
    *,
    types: Collection[str] | None = None,
    versions: Collection[str] = (STATE_VERSION,),
    strict: bool = True,
) -> StateT:
    """Check ``state`` against ``model`` and return it parsed.

    The ``type`` tag is required and must be one of ``types`` (by default the model's own
    default tag); a missing ``version`` counts as :data:`STATE_VERSION`, since AutoGen
    writes that and older hand-made states omit it. Fields are checked strictly: a count
    saved as ``"3"`` or ``true`` is a corrupt state, not something to coerce.

    Raises:
        StateError: naming the first field that does not fit.
    """
    if not isinstance(state, Mapping):
        raise StateError(f"expected a mapping, got {type(state).__name__}")
    expected = tuple(types) if types is not None else (str(model.model_fields["type"].default),)
    if "type" not in state:
        raise StateError(f"missing, expected {expected[0]!r}", "type")
    if state["type"] not in expected:
        raise StateError(f"expected {' or '.join(map(repr, expected))}, got {state['type']!r}", "type")
    version = state.get("version", STATE_VERSION)
    if version not in versions:
        readable = ", ".join(map(repr, versions))
        raise StateError(f"unsupported version {version!r}, expected {readable}", "version")
    try:
        return model.model_validate({**state, "version": version}, strict=strict)
    except ValidationError as exc:
        raise error_from_validation(exc) from exc


class StatePlan:
    """A state that passed every check, waiting to be applied.

    It holds two kinds of steps. *Assignments* were fully validated and cannot fail.
    *Loads* hand a part of the state to an object whose checks are its own (a user's
    custom condition or memory, a model context, an inner team): they can still fail, so
    they run first, each after a snapshot of its target, and a failure restores every
    target loaded so far before the error is raised. Assignments run only once all loads
    succeeded.
    """

    def __init__(self) -> None:
        self._loads: list[tuple[str, Stateful, Mapping[str, Any]]] = []
        self._assignments: list[Callable[[], None]] = []

    def assign(self, apply: Callable[[], None]) -> None:
        """Add a step that cannot fail (its input is already validated)."""
        self._assignments.append(apply)

    def load(self, field: str, target: Stateful, state: object) -> None:
        """Add ``target.load_state(state)``, reported as ``field`` if it fails.

        Raises:
            StateError: ``state`` is not even a mapping.
        """
        if not isinstance(state, Mapping):
            raise StateError(f"expected a mapping, got {type(state).__name__}", field or None)
        self._loads.append((field, target, state))

    def include(self, other: StatePlan, field: str) -> None:
        """Add the steps of a part's plan; ``field`` is where that part sits in this state."""
        self._loads.extend((join_field(field, f), t, s) for f, t, s in other._loads)
        self._assignments.extend(other._assignments)

    async def run(self) -> None:
        """Apply the plan: loads first (rolled back together on failure), then assignments.

        Raises:
            StateError: a load failed; every target is back to its state before the call.
        """
        done: list[tuple[Stateful, Mapping[str, Any]]] = []
        for field, target, state in self._loads:
            snapshot = await target.save_state()
            try:
                await target.load_state(state)
            except Exception as exc:
                error = _as_state_error(exc, field)
                # A custom loader may have changed part of its object before failing, so the
                # failing target is restored too. Its loader may refuse that as well; the
                # caller must still learn of the first failure, so that one only adds a note.
                try:
                    await target.load_state(snapshot)
                except Exception as restore_error:  # noqa: BLE001 - reported on the raised error
                    error.add_note(f"restoring {field or 'the state'} also failed: {restore_error!r}")
                for loaded, previous in reversed(done):
                    await loaded.load_state(previous)
                raise error from exc
            done.append((target, snapshot))
        for apply in self._assignments:
            apply()


def _as_state_error(error: Exception, field: str) -> StateError:
    if isinstance(error, StateError):
        return nested_error(error, field)
    if isinstance(error, ValidationError):
        return error_from_validation(error, field)
    detail = getattr(error, "detail", None)
    if isinstance(detail, str):  # a lower layer's state error (muster.memory) with its own field
        return StateError(detail, join_field(field, getattr(error, "field", None)) or None)
    return StateError(f"{type(error).__name__}: {error}", field or None)
