"""RoutedAgent dispatch: annotated types, unions, match predicates, rpc/event kinds, strictness."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel

from muster.core import (
    AgentId,
    CancellationToken,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    event,
    message_handler,
    rpc,
)
from muster.core.exceptions import CantHandleException, HandlerReturnTypeError, UnhandledMessageError


@dataclass
class Text:
    content: str


@dataclass
class Number:
    value: int


class Command(BaseModel):
    name: str


@dataclass
class LoudText(Text):
    pass


class Router(RoutedAgent):
    """Records which handler saw which message."""

    def __init__(self) -> None:
        super().__init__("router")
        self.seen: list[tuple[str, Any]] = []

    @message_handler
    async def on_text_or_number(self, message: Text | Number, ctx: MessageContext) -> str:
        self.seen.append(("text_or_number", message))
        return f"union:{type(message).__name__}"

    @rpc(match=lambda message, ctx: message.name == "special")
    async def a_special_command(self, message: Command, ctx: MessageContext) -> str:
        return "special"

    @rpc
    async def b_any_command(self, message: Command, ctx: MessageContext) -> str:
        return f"command:{message.name}"

    @event
    async def on_command_event(self, message: Command, ctx: MessageContext) -> None:
        self.seen.append(("event", message.name))

    @message_handler
    async def on_plain_string(self, message: str, ctx: MessageContext) -> str:
        return message.upper()


@pytest.fixture
async def runtime() -> SingleThreadedAgentRuntime:
    rt = SingleThreadedAgentRuntime()
    await Router.register(rt, "router", Router)
    await rt.add_subscription(TypeSubscription("events", "router"))
    rt.start()
    return rt


async def test_union_annotation_routes_each_member(runtime: SingleThreadedAgentRuntime) -> None:
    target = AgentId("router", "k")
    assert await runtime.send_message(Text("hi"), target) == "union:Text"
    assert await runtime.send_message(Number(3), target) == "union:Number"


async def test_plain_str_messages_route(runtime: SingleThreadedAgentRuntime) -> None:
    assert await runtime.send_message("hello", AgentId("router", "k")) == "HELLO"


async def test_match_predicates_pick_first_accepting_handler_alphabetically(
    runtime: SingleThreadedAgentRuntime,
) -> None:
    target = AgentId("router", "k")
    assert await runtime.send_message(Command(name="special"), target) == "special"
    assert await runtime.send_message(Command(name="other"), target) == "command:other"


async def test_rpc_handlers_ignore_publishes_and_event_handlers_ignore_sends(
    runtime: SingleThreadedAgentRuntime,
) -> None:
    await runtime.publish_message(Command(name="broadcast"), TopicId("events", "k"))
    await runtime.stop_when_idle()
    agent = await runtime.try_get_underlying_agent_instance(AgentId("router", "k"), Router)
    assert agent.seen == [("event", "broadcast")]


async def test_subclass_message_falls_back_to_base_class_handler(runtime: SingleThreadedAgentRuntime) -> None:
    assert await runtime.send_message(LoudText("x"), AgentId("router", "k")) == "union:LoudText"


async def test_unhandled_rpc_returns_none_and_is_logged(
    runtime: SingleThreadedAgentRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    """AutoGen logs an RPC no handler takes and answers None; muster does the same by default."""
    caplog.set_level("INFO", logger="muster.core")
    assert await runtime.send_message(3.5, AgentId("router", "k")) is None
    assert "Unhandled float sent to router/k" in caplog.text


@dataclass
class Greeting:
    content: str


class Picky(RoutedAgent):
    """The shape of AutoGen's match= examples: every handler refuses some messages."""

    def __init__(self) -> None:
        super().__init__("picky")

    @message_handler(match=lambda message, ctx: message.content.startswith("hello"))
    async def on_hello(self, message: Greeting, ctx: MessageContext) -> str:
        return "hi back"

    @message_handler(match=lambda message, ctx: message.content.startswith("bye"))
    async def on_bye(self, message: Greeting, ctx: MessageContext) -> str:
        return "see you"


class StrictPicky(Picky):
    raise_on_unhandled_rpc = True


async def test_send_refused_by_every_match_returns_none() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Picky.register(runtime, "picky", Picky)
    runtime.start()
    target = AgentId("picky", "default")
    assert await runtime.send_message(Greeting("hello there"), target) == "hi back"
    assert await runtime.send_message(Greeting("bye now"), target) == "see you"
    assert await runtime.send_message(Greeting("what?"), target) is None
    await runtime.stop()


async def test_strict_agents_raise_for_an_unhandled_rpc() -> None:
    runtime = SingleThreadedAgentRuntime()
    await StrictPicky.register(runtime, "strict", StrictPicky)
    runtime.start()
    target = AgentId("strict", "k")
    with pytest.raises(UnhandledMessageError) as info:
        await runtime.send_message(Greeting("what?"), target)
    assert isinstance(info.value, CantHandleException)
    assert info.value.message_type is Greeting
    assert info.value.agent_id == target
    with pytest.raises(UnhandledMessageError):
        await runtime.send_message(3.5, target)
    await runtime.stop()


async def test_unhandled_event_is_logged_not_raised(
    runtime: SingleThreadedAgentRuntime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="muster.core")
    await runtime.publish_message(3.5, TopicId("events", "k"))
    await runtime.stop_when_idle()
    assert "Unhandled float" in caplog.text


class Sloppy(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("returns the wrong type")

    @message_handler
    async def strict_one(self, message: Text, ctx: MessageContext) -> int:
        return "not an int"  # type: ignore[return-value]

    @message_handler(strict=False)
    async def lenient_one(self, message: Number, ctx: MessageContext) -> int:
        return "still not an int"  # type: ignore[return-value]


async def test_strict_return_type_check() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Sloppy.register(runtime, "sloppy", Sloppy)
    runtime.start()
    with pytest.raises(HandlerReturnTypeError) as info:
        await runtime.send_message(Text("x"), AgentId("sloppy", "k"))
    assert info.value.returned is str and info.value.declared == (int,)
    assert await runtime.send_message(Number(1), AgentId("sloppy", "k")) == "still not an int"
    await runtime.stop()


async def test_strict_return_type_check_holds_for_published_messages_too() -> None:
    # The runtime awaits a routed handler's method itself, not the decorator's wrapper: the
    # wrapper's check of the result must still run, for publishes as for sends.
    runtime = SingleThreadedAgentRuntime(ignore_unhandled_exceptions=False)
    await Sloppy.register(runtime, "sloppy", Sloppy)
    await runtime.add_subscription(TypeSubscription("talk", "sloppy"))
    runtime.start()
    await runtime.publish_message(Text("x"), TopicId("talk", "k"))
    with pytest.raises(HandlerReturnTypeError) as info:
        await runtime.stop_when_idle()
    assert info.value.returned is str and info.value.declared == (int,)


async def test_strict_message_type_check_when_called_directly() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Sloppy.register(runtime, "sloppy", Sloppy)
    agent = await runtime.try_get_underlying_agent_instance(AgentId("sloppy", "k"), Sloppy)
    ctx = MessageContext(None, None, True, CancellationToken(), "id")
    with pytest.raises(CantHandleException):
        await Sloppy.strict_one(agent, Number(1), ctx)  # type: ignore[arg-type]


def test_decorated_handlers_expose_routing_facts() -> None:
    handler = Router.on_text_or_number
    assert handler.is_message_handler
    assert list(handler.target_types) == [Text, Number]
    assert list(handler.produces_types) == [str]
    assert handler.handler_kind == "any"
    rpc_ctx = MessageContext(None, None, True, CancellationToken(), "id")
    event_ctx = MessageContext(None, None, False, rpc_ctx.cancellation_token, "id")
    assert Router.b_any_command.router(Command(name="x"), rpc_ctx)
    assert not Router.b_any_command.router(Command(name="x"), event_ctx)
    assert Router.on_command_event.router(Command(name="x"), event_ctx)


def test_unannotated_message_parameter_is_rejected() -> None:
    with pytest.raises(TypeError, match="annotate"):

        @message_handler
        async def handler(self: Any, message, ctx: MessageContext) -> None:  # type: ignore[no-untyped-def]
            return None


async def test_locally_defined_message_types_resolve() -> None:
    @dataclass
    class Local:
        n: int

    class LocalAgent(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("local")

        @message_handler
        async def on_local(self, message: Local, ctx: MessageContext) -> int:
            return message.n * 2

    runtime = SingleThreadedAgentRuntime()
    await LocalAgent.register(runtime, "local", LocalAgent)
    runtime.start()
    assert await runtime.send_message(Local(21), AgentId("local", "k")) == 42
    await runtime.stop()
