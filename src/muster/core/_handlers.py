"""Decorators that turn agent methods into typed message handlers.

``@message_handler`` handles both direct sends and publishes, ``@rpc`` only sends and
``@event`` only publishes. The message type is read from the annotation of the message
parameter, so routing needs no registration code.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Literal, Protocol, TypeVar, cast, overload

from . import ROOT_LOGGER_NAME
from ._message_context import MessageContext
from ._type_helpers import ANY_TYPE, handler_types
from .exceptions import CantHandleException, HandlerReturnTypeError

__all__ = ["HandlerKind", "MessageHandler", "event", "message_handler", "rpc"]

_logger = logging.getLogger(ROOT_LOGGER_NAME)

AgentT = TypeVar("AgentT")
ReceivesT = TypeVar("ReceivesT")
ProducesT = TypeVar("ProducesT", covariant=True)

_AgentContraT = TypeVar("_AgentContraT", contravariant=True)
_ReceivesContraT = TypeVar("_ReceivesContraT", contravariant=True)

HandlerKind = Literal["any", "rpc", "event"]
"""Which deliveries a handler accepts: all, direct sends only, or publishes only."""

HandlerFunc = Callable[[AgentT, ReceivesT, MessageContext], Coroutine[Any, Any, ProducesT]]
MatchFunc = Callable[[ReceivesT, MessageContext], bool]


class MessageHandler(Protocol[_AgentContraT, _ReceivesContraT, ProducesT]):
    """A decorated handler: the wrapped method plus the routing facts the agent reads."""

    target_types: Sequence[type[Any]]
    """Message classes it accepts (``object`` for any)."""
    produces_types: Sequence[type[Any]]
    """Classes it may return (``object`` for any)."""
    is_message_handler: bool
    """Marker the routed agent looks for."""
    handler_kind: HandlerKind
    """Whether it takes sends, publishes or both."""
    match: Callable[[Any, MessageContext], bool] | None
    """Secondary routing predicate, tried after the type matched."""
    router: Callable[[Any, MessageContext], bool]
    """Kind and ``match`` combined, for callers that want one predicate."""

    @staticmethod
    async def __call__(agent: _AgentContraT, message: _ReceivesContraT, ctx: MessageContext) -> ProducesT: ...


def _build(
    func: HandlerFunc[AgentT, ReceivesT, ProducesT],
    kind: HandlerKind,
    strict: bool,
    match: MatchFunc[ReceivesT] | None,
) -> MessageHandler[AgentT, ReceivesT, ProducesT]:
    message_types, return_types = handler_types(func, message_index=1)
    accepts_any = ANY_TYPE in message_types
    returns_any = ANY_TYPE in return_types
    accepted = frozenset(message_types)
    returnable = frozenset(return_types)
    name = func.__qualname__

    @functools.wraps(func)
    async def wrapper(agent: AgentT, message: ReceivesT, ctx: MessageContext) -> ProducesT:
        # Exact-type set lookups first: isinstance on a tuple is only needed for subclasses.
        if not accepts_any and type(message) not in accepted and not isinstance(message, message_types):
            text = f"Handler {name} accepts {[t.__qualname__ for t in message_types]}, got {type(message).__qualname__}"
            if strict:
                raise CantHandleException(text)
            _logger.warning(text)
        result = await func(agent, message, ctx)
        if not returns_any and type(result) not in returnable and not isinstance(result, return_types):
            if strict:
                raise HandlerReturnTypeError(name, type(result), return_types)
            _logger.warning("Handler %s returned undeclared type %s", name, type(result).__qualname__)
        return result

    def check_result(result: Any) -> None:
        if not isinstance(result, return_types):
            if strict:
                raise HandlerReturnTypeError(name, type(result), return_types)
            _logger.warning("Handler %s returned undeclared type %s", name, type(result).__qualname__)

    def router(message: ReceivesT, ctx: MessageContext) -> bool:
        if kind != "any" and ctx.is_rpc != (kind == "rpc"):
            return False
        return match is None or match(message, ctx)

    handler = cast(MessageHandler[AgentT, ReceivesT, ProducesT], wrapper)
    handler.target_types = list(message_types)
    handler.produces_types = list(return_types)
    handler.is_message_handler = True
    handler.handler_kind = kind
    handler.match = match
    handler.router = router
    # For RoutedAgent, which finds a handler by the message's type (so the wrapper's check
    # of the message type always passes there): the method itself and the check of its
    # result, awaited without the wrapper's coroutine (see RoutedAgent._pick_handler).
    # The runtime checks the exact type against ``returnable`` itself (no call per delivery)
    # and calls ``check_result`` only for a result of another type.
    handler._muster_direct = (func, None if returns_any else returnable, check_result)  # type: ignore[attr-defined]
    return handler


Decorator = Callable[
    [HandlerFunc[AgentT, ReceivesT, ProducesT]], MessageHandler[AgentT, ReceivesT, ProducesT]
]


def _decorate(
    func: HandlerFunc[AgentT, ReceivesT, ProducesT] | None,
    kind: HandlerKind,
    strict: bool,
    match: MatchFunc[ReceivesT] | None,
) -> Decorator[AgentT, ReceivesT, ProducesT] | MessageHandler[AgentT, ReceivesT, ProducesT]:
    def decorator(
        f: HandlerFunc[AgentT, ReceivesT, ProducesT],
    ) -> MessageHandler[AgentT, ReceivesT, ProducesT]:
        return _build(f, kind, strict, match)

    if func is None:
        return decorator
    if not callable(func):
        raise TypeError(f"Expected a handler function, got {func!r}")
    return decorator(func)


@overload
def message_handler(
    func: None = None, *, strict: bool = ..., match: MatchFunc[ReceivesT] | None = ...
) -> Decorator[AgentT, ReceivesT, ProducesT]: ...


@overload
def message_handler(
    func: HandlerFunc[AgentT, ReceivesT, ProducesT],
) -> MessageHandler[AgentT, ReceivesT, ProducesT]: ...


def message_handler(
    func: HandlerFunc[AgentT, ReceivesT, ProducesT] | None = None,
    *,
    strict: bool = True,
    match: MatchFunc[ReceivesT] | None = None,
) -> Decorator[AgentT, ReceivesT, ProducesT] | MessageHandler[AgentT, ReceivesT, ProducesT]:
    """Handle the annotated message type, whether it was sent (RPC) or published (event).

    Args:
        func: The method ``async def h(self, message: T, ctx: MessageContext) -> R``.
        strict: Raise (instead of logging) when the message or the return value has a type
            the annotations do not declare.
        match: Extra predicate for choosing among handlers of one type; handlers are tried
            in alphabetical order of their method names and the first match wins.
    """
    return _decorate(func, "any", strict, match)


@overload
def event(
    func: None = None, *, strict: bool = ..., match: MatchFunc[ReceivesT] | None = ...
) -> Decorator[AgentT, ReceivesT, None]: ...


@overload
def event(func: HandlerFunc[AgentT, ReceivesT, None]) -> MessageHandler[AgentT, ReceivesT, None]: ...


def event(
    func: HandlerFunc[AgentT, ReceivesT, None] | None = None,
    *,
    strict: bool = True,
    match: MatchFunc[ReceivesT] | None = None,
) -> Decorator[AgentT, ReceivesT, None] | MessageHandler[AgentT, ReceivesT, None]:
    """Handle the annotated message type only when it is published; see :func:`message_handler`."""
    return _decorate(func, "event", strict, match)


@overload
def rpc(
    func: None = None, *, strict: bool = ..., match: MatchFunc[ReceivesT] | None = ...
) -> Decorator[AgentT, ReceivesT, ProducesT]: ...


@overload
def rpc(func: HandlerFunc[AgentT, ReceivesT, ProducesT]) -> MessageHandler[AgentT, ReceivesT, ProducesT]: ...


def rpc(
    func: HandlerFunc[AgentT, ReceivesT, ProducesT] | None = None,
    *,
    strict: bool = True,
    match: MatchFunc[ReceivesT] | None = None,
) -> Decorator[AgentT, ReceivesT, ProducesT] | MessageHandler[AgentT, ReceivesT, ProducesT]:
    """Handle the annotated message type only when it is sent directly; see :func:`message_handler`."""
    return _decorate(func, "rpc", strict, match)
