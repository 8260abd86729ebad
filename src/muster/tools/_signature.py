"""Reading a Python callable's signature into a pydantic args model and a call plan.

Done once per :class:`~muster.tools.FunctionTool`, so each call only copies attributes
out of the validated model.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from ..core import CancellationToken
from .exceptions import ToolDefinitionError

__all__ = ["CallPlan", "callable_name", "plan_call"]

_ARGS_CONFIG = ConfigDict(protected_namespaces=(), populate_by_name=True)
# Parameters named like BaseModel attributes (``json``, ``schema``, ``copy``...) or starting with
# ``_`` cannot be pydantic field names; they get an internal field name aliased to the real one.
_RESERVED = frozenset(dir(BaseModel))


@dataclass(frozen=True, slots=True)
class CallPlan:
    """How to call a function from a validated args model."""

    args_model: type[BaseModel]
    """The model the arguments are validated against; its schema is the tool's."""
    return_type: Any
    """The return annotation, ``Any`` when there is none."""
    positional: tuple[str, ...]
    """Fields passed positionally (positional-only parameters), in order."""
    keyword: tuple[tuple[str, str], ...]
    """``(field, parameter)`` pairs passed by keyword."""
    token_param: str | None
    """The parameter that receives the cancellation token, if any."""
    is_async: bool
    """Whether calling the function returns a coroutine."""

    def arguments(self, args: BaseModel) -> tuple[list[Any], dict[str, Any]]:
        """Positional and keyword arguments for the function, taken from ``args``."""
        positional = [getattr(args, field) for field in self.positional]
        keyword = {param: getattr(args, field) for field, param in self.keyword}
        return positional, keyword


def callable_name(func: Any) -> str:
    """The natural tool name of a callable: the function's name, through partials and call objects."""
    target = func.func if isinstance(func, functools.partial) else func
    name = getattr(target, "__name__", None)
    return name if isinstance(name, str) else type(target).__name__


def _accepts_none(tp: Any) -> bool:
    if tp is Any or tp is None or tp is type(None) or tp is object:
        return True
    origin = get_origin(tp)
    if origin is Annotated:
        return _accepts_none(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return any(_accepts_none(arg) for arg in get_args(tp))
    if origin is typing.Literal:
        return None in get_args(tp)
    return False


def _split_annotated(tp: Any) -> tuple[Any, str | None, list[Any]]:
    """Split ``Annotated[T, "doc", meta...]`` into ``T``, the description and the other metadata."""
    if get_origin(tp) is not Annotated:
        return tp, None, []
    inner, *metadata = get_args(tp)
    docs = [m for m in metadata if isinstance(m, str)]
    others = [m for m in metadata if not isinstance(m, str)]
    return inner, (docs[0] if docs else None), others


def _is_token_param(name: str, annotation: Any) -> bool:
    base = _split_annotated(annotation)[0]
    return name == "cancellation_token" or base is CancellationToken


def _is_async(func: Any) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - an object with an async __call__
    return call is not None and inspect.iscoroutinefunction(call)


def _type_hints(func: Any, func_name: str) -> dict[str, Any]:
    target: Any = func.func if isinstance(func, functools.partial) else func
    if not (inspect.isfunction(target) or inspect.ismethod(target)) and callable(target):
        target = target.__call__
    try:
        return typing.get_type_hints(target, include_extras=True)
    except (NameError, TypeError) as exc:
        raise ToolDefinitionError(
            f"cannot resolve the type hints of {func_name!r}: {exc}", func_name
        ) from exc


def _field_name(name: str, index: int) -> str:
    if name in _RESERVED or name.startswith("_"):
        return f"arg{index}_{name.strip('_')}"
    return name


def _field(name: str, param: inspect.Parameter, annotation: Any) -> tuple[Any, FieldInfo]:
    inner, description, metadata = _split_annotated(annotation)
    default = PydanticUndefined if param.default is inspect.Parameter.empty else param.default
    if default is None and not _accepts_none(inner):
        # ``date: str = None`` is everyday Python: the model must be allowed to send null.
        inner = inner | None
    field_type: Any = Annotated[(inner, *metadata)] if metadata else inner
    has_own_description = any(isinstance(m, FieldInfo) and m.description for m in metadata)
    kwargs: dict[str, Any] = {"default": default}
    if not has_own_description:
        kwargs["description"] = description or name
    if name in _RESERVED or name.startswith("_"):
        kwargs["alias"] = name
    return field_type, Field(**kwargs)


def plan_call(func: Any, func_name: str) -> CallPlan:
    """Read ``func``'s signature into a :class:`CallPlan`.

    Raises:
        ToolDefinitionError: a parameter has no annotation, a hint cannot be resolved,
            or pydantic cannot build a model from the types.
    """
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise ToolDefinitionError(f"cannot read the signature of {func_name!r}: {exc}", func_name) from exc
    hints = _type_hints(func, func_name)
    fields: dict[str, Any] = {}
    positional: list[str] = []
    keyword: list[tuple[str, str]] = []
    token_param: str | None = None
    for name, param in signature.parameters.items():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue  # a schema cannot describe them; calls simply pass none
        annotation = hints.get(name, param.annotation)
        if _is_token_param(name, annotation):
            token_param = name
            continue
        if annotation is inspect.Parameter.empty:
            raise ToolDefinitionError(
                f"parameter {name!r} of {func_name!r} has no type annotation; "
                "tools need one per parameter to tell the model what to send",
                func_name,
            )
        field_name = _field_name(name, len(fields))
        fields[field_name] = _field(name, param, annotation)
        if param.kind is inspect.Parameter.POSITIONAL_ONLY:
            positional.append(field_name)
        else:
            keyword.append((field_name, name))
    try:
        args_model: type[BaseModel] = create_model(f"{func_name}args", __config__=_ARGS_CONFIG, **fields)
    except (PydanticUserError, TypeError) as exc:
        raise ToolDefinitionError(
            f"cannot build the arguments model of {func_name!r}: {exc}", func_name
        ) from exc
    return_type = hints.get("return", Any)
    return CallPlan(
        args_model=args_model,
        return_type=type(None) if return_type is None else return_type,
        positional=tuple(positional),
        keyword=tuple(keyword),
        token_param=token_param,
        is_async=_is_async(func),
    )
