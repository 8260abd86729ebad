"""Reading message and return types from handler annotations."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

__all__ = ["ANY_TYPE", "handler_types", "runtime_types"]

ANY_TYPE: type[Any] = object
"""Stands for ``Any``: a handler annotated with it (or ``object``) accepts every message."""


def runtime_types(annotation: Any) -> tuple[type[Any], ...]:
    """Flatten an annotation into the classes ``isinstance`` can check.

    ``A | B`` and ``Optional[A]`` give their members, ``None`` gives ``NoneType``,
    ``list[str]`` gives ``list``, ``Literal["x", 1]`` the types of its values and ``Any``
    gives :data:`ANY_TYPE`.
    """
    if annotation is Any or annotation is object:
        return (ANY_TYPE,)
    if annotation is None or annotation is type(None):
        return (type(None),)
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        found: list[type[Any]] = []
        for arg in get_args(annotation):
            for item in runtime_types(arg):
                if item not in found:
                    found.append(item)
        return tuple(found)
    if origin is Literal:
        return tuple(dict.fromkeys(type(value) for value in get_args(annotation)))
    if origin is not None:
        return runtime_types(origin)
    if isinstance(annotation, type):
        return (annotation,)
    raise TypeError(f"Cannot route on annotation {annotation!r}: use classes, unions of classes or Any")


def _resolve_hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return get_type_hints(func)
    except NameError:
        # Message classes defined inside a function (common in tests and notebooks) are not in
        # the module globals, but the frames that applied the decorator still hold them;
        # the innermost definition of a name wins.
        localns: dict[str, Any] = {}
        frame: types.FrameType | None = sys._getframe(1)
        while frame is not None:
            for key, value in frame.f_locals.items():
                localns.setdefault(key, value)
            frame = frame.f_back
        return get_type_hints(func, localns=localns)


def handler_types(
    func: Callable[..., Any], *, message_index: int
) -> tuple[tuple[type[Any], ...], tuple[type[Any], ...]]:
    """Return (message types, return types) of a handler from its annotations.

    Args:
        func: The handler.
        message_index: Position of the message parameter (1 for methods, after ``self``).

    Raises:
        TypeError: the message parameter is missing or unannotated.
    """
    hints = _resolve_hints(func)
    params = list(func.__code__.co_varnames[: func.__code__.co_argcount])
    if len(params) <= message_index:
        raise TypeError(f"Handler {func.__qualname__} must take the message as parameter {message_index + 1}")
    message_param = params[message_index]
    if message_param not in hints:
        raise TypeError(
            f"Handler {func.__qualname__}: annotate parameter {message_param!r} with the message type"
        )
    message_types = runtime_types(hints[message_param])
    return_types = runtime_types(hints["return"]) if "return" in hints else (ANY_TYPE,)
    return message_types, return_types
