"""An agent that dispatches each message to the decorated method matching its type."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ClassVar

from . import ROOT_LOGGER_NAME
from ._base_agent import BaseAgent, HandledTypes
from ._handlers import HandlerKind, MessageHandler
from ._message_context import MessageContext
from ._serialization import try_get_known_serializers_for_type
from .exceptions import UnhandledMessageError

__all__ = ["RoutedAgent"]

_logger = logging.getLogger(ROOT_LOGGER_NAME)

_KIND_CODES: dict[HandlerKind, int] = {"any": 0, "rpc": 1, "event": 2}

_Handler = tuple[Callable[..., Any], frozenset[type[Any]] | None, Callable[[Any], None]]
"""A picked handler: the method to await with ``(agent, message, ctx)``, the result types
it may return exactly (``None``: anything), and the check of a result of any other type."""
# (picked handler, kind code, match predicate): plain tuples, built once per class, keep the
# dispatch loop allocation-free (every object a delivery allocates is more work for the
# garbage collector, which dominates a large fan-out). The method is the decorated function
# itself, not the handler wrapper: a route is found by the message's type, so the wrapper's
# check of the message type would always pass; the result check is the rest of it.
_Route = tuple[_Handler, int, Callable[[Any, MessageContext], bool] | None]


def _accept(result: Any) -> None:
    """The result check of a handler that declares no result types."""


class RoutedAgent(BaseAgent):
    """Routes messages to methods decorated with ``@message_handler``, ``@rpc`` or ``@event``.

    The handler table is built once per class (not per instance) and the handlers for a
    message type are resolved once per (class, message type), so dispatch is a dict lookup.
    A message whose exact type has no handler falls back to handlers of its base classes
    (and to ``Any`` handlers). Among handlers of one type, methods are tried in
    alphabetical order and the first whose kind and ``match`` accept the message wins.

    A message no handler accepts is logged and answered with ``None``, as in AutoGen,
    whose examples send messages that a ``match`` predicate is meant to refuse. Set
    :attr:`raise_on_unhandled_rpc` to ``True`` on a subclass to get
    :class:`~muster.core.exceptions.UnhandledMessageError` at the sender instead.
    """

    raise_on_unhandled_rpc: ClassVar[bool] = False
    """Opt-in strictness: an unhandled direct send raises instead of returning ``None``.

    Off by default for AutoGen compatibility; turn it on where a typo in a message type
    should be a loud error rather than a silent ``None``.
    """

    _muster_routes_by_type: ClassVar[dict[type[Any], list[_Route]]]
    _muster_route_cache: ClassVar[dict[type[Any], tuple[_Route, ...]]]
    _muster_handlers: ClassVar[tuple[MessageHandler[Any, Any, Any], ...]]

    def __init__(self, description: str) -> None:
        cls = type(self)
        if "_muster_route_cache" not in cls.__dict__:
            cls._build_routes()
        self._route_cache = cls._muster_route_cache
        super().__init__(description)

    @classmethod
    def _discover_handlers(cls) -> list[MessageHandler[Any, Any, Any]]:
        # Found once per class (``dir`` over every attribute is costly, and a team registers
        # its participants' classes on every run); kept in the class's own ``__dict__`` so a
        # subclass finds its own.
        found: tuple[MessageHandler[Any, Any, Any], ...] | None = cls.__dict__.get("_muster_handlers")
        if found is None:
            found = tuple(
                attr
                for name in sorted(dir(cls))
                if callable(attr := getattr(cls, name, None)) and getattr(attr, "is_message_handler", False)
            )
            cls._muster_handlers = found
        return list(found)

    @classmethod
    def _build_routes(cls) -> None:
        by_type: dict[type[Any], list[_Route]] = {}
        for handler in cls._discover_handlers():
            # Anything marked as a handler without muster's decorator is called as it is.
            picked: _Handler = getattr(handler, "_muster_direct", (handler, None, _accept))
            route: _Route = (picked, _KIND_CODES[handler.handler_kind], handler.match)
            for target in handler.target_types:
                by_type.setdefault(target, []).append(route)
        cls._muster_routes_by_type = by_type
        cls._muster_route_cache = {}

    @classmethod
    def _resolve_routes(cls, message_type: type[Any]) -> tuple[_Route, ...]:
        by_type = cls._muster_routes_by_type
        routes: list[_Route] = []
        for base in message_type.__mro__:
            routes.extend(by_type.get(base, ()))
        resolved = tuple(routes)
        cls._muster_route_cache[message_type] = resolved
        return resolved

    @classmethod
    def _published_handler(cls, message_type: type[Any]) -> _Handler | None:
        """The handler every published message of ``message_type`` reaches, if that is fixed.

        It is the first route that takes publishes, when it has no ``match``: a predicate
        decides per message, so with one (or with no route at all) this returns ``None`` and
        the runtime calls :meth:`_pick_handler` on each delivery instead. The runtime asks
        once per topic and message type (its delivery plans), not per delivery.
        """
        if "_muster_route_cache" not in cls.__dict__:
            cls._build_routes()
        routes = cls._muster_route_cache.get(message_type)
        if routes is None:
            routes = cls._resolve_routes(message_type)
        for picked, kind, match in routes:
            if kind != 1:  # "any" or "event"
                return picked if match is None else None
        return None

    def _pick_handler(self, message: Any, ctx: MessageContext) -> _Handler | None:
        """The first handler whose type, kind and ``match`` accept the message, or ``None``.

        Returns the handler's method, the result types it may return exactly (``None``:
        anything) and the check to call on a result of another type. The runtime awaits
        the method itself (as :meth:`on_message_impl` does), one coroutine less per
        delivery than going through the decorator's wrapper.
        """
        message_type = type(message)
        routes = self._route_cache.get(message_type)
        if routes is None:
            routes = type(self)._resolve_routes(message_type)
        is_rpc = ctx.is_rpc
        for picked, kind, match in routes:
            if (kind == 0 or (kind == 1) == is_rpc) and (match is None or match(message, ctx)):
                return picked
        return None

    async def on_message_impl(self, message: Any, ctx: MessageContext) -> Any:
        """Dispatch to the first handler whose type, kind and ``match`` accept the message.

        Do not override: add decorated handlers instead, or override
        :meth:`on_unhandled_message` to change what happens when none applies.
        """
        picked = self._pick_handler(message, ctx)
        if picked is None:
            return await self.on_unhandled_message(message, ctx)
        func, returnable, check = picked
        result = await func(self, message, ctx)
        if returnable is not None and type(result) not in returnable:
            check(result)
        return result

    async def on_unhandled_message(self, message: Any, ctx: MessageContext) -> Any:
        """Called when no handler accepts a message; logs it, and the sender gets ``None``.

        Raises:
            UnhandledMessageError: for an RPC when :attr:`raise_on_unhandled_rpc` is set, so
                the sender learns its message went nowhere. Published events without a
                handler are normal (topics are shared) and are only ever logged.
        """
        if ctx.is_rpc and self.raise_on_unhandled_rpc:
            raise UnhandledMessageError(self.id, type(message))
        kind = "sent" if ctx.is_rpc else "published"
        _logger.info("Unhandled %s %s to %s", type(message).__qualname__, kind, self.id)

    @classmethod
    def _handles_types(cls) -> HandledTypes:
        handled = super()._handles_types()
        for handler in cls._discover_handlers():
            for target in handler.target_types:
                serializers = try_get_known_serializers_for_type(target)
                if serializers:  # str, dict... route fine in-process without one
                    handled.append((target, serializers))
        return handled
