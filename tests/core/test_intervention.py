"""Intervention handlers: rewrite, drop and fail sends, publishes and replies."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from muster.core import (
    AgentId,
    DefaultInterventionHandler,
    DropMessage,
    InterventionHandler,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)
from muster.core.exceptions import MessageDroppedException, RuntimeStoppedError


class Echo(RoutedAgent):
    heard: list[str] = []

    def __init__(self) -> None:
        super().__init__("echo")

    @message_handler
    async def on_text(self, message: str, ctx: MessageContext) -> str:
        Echo.heard.append(message)
        return f"echo:{message}"


class Censor(DefaultInterventionHandler):
    """Drops messages containing 'secret', upper-cases the rest, and tags replies."""

    def __init__(self) -> None:
        self.seen_send: list[tuple[Any, AgentId, bool]] = []

    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        self.seen_send.append((message, recipient, message_context.is_rpc))
        return DropMessage if "secret" in message else message.upper()

    async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any:
        return DropMessage() if "secret" in message else message.upper()

    async def on_response(self, message: Any, *, sender: AgentId, recipient: AgentId | None) -> Any:
        if "DROPREPLY" in message:
            return DropMessage
        return f"{message} [from {sender}]"


async def _runtime(*handlers: InterventionHandler) -> SingleThreadedAgentRuntime:
    Echo.heard = []
    runtime = SingleThreadedAgentRuntime(intervention_handlers=list(handlers))
    await Echo.register(runtime, "echo", Echo)
    await runtime.add_subscription(TypeSubscription("t", "echo"))
    runtime.start()
    return runtime


async def test_send_is_rewritten_and_reply_tagged() -> None:
    censor = Censor()
    runtime = await _runtime(censor)
    reply = await runtime.send_message("hi", AgentId("echo", "k"))
    assert reply == "echo:HI [from echo/k]"
    assert censor.seen_send == [("hi", AgentId("echo", "k"), True)]
    await runtime.stop()


async def test_dropped_send_raises_and_never_reaches_agent() -> None:
    runtime = await _runtime(Censor())
    with pytest.raises(MessageDroppedException):
        await runtime.send_message("a secret", AgentId("echo", "k"))
    assert Echo.heard == []
    await runtime.stop()


async def test_dropped_reply_raises_at_sender() -> None:
    runtime = await _runtime(Censor())
    with pytest.raises(MessageDroppedException):
        await runtime.send_message("dropreply", AgentId("echo", "k"))
    assert Echo.heard == ["DROPREPLY"]  # the handler ran; only its reply was dropped
    await runtime.stop()


async def test_publish_rewritten_or_dropped() -> None:
    runtime = await _runtime(Censor())
    await runtime.publish_message("a secret", TopicId("t", "s"))
    await runtime.publish_message("news", TopicId("t", "s"))
    await runtime.stop_when_idle()
    assert Echo.heard == ["NEWS"]


class Exploding(DefaultInterventionHandler):
    async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
        raise PermissionError("not allowed")


async def test_hook_exception_reaches_sender() -> None:
    runtime = await _runtime(Exploding())
    with pytest.raises(PermissionError):
        await runtime.send_message("x", AgentId("echo", "k"))
    await runtime.stop()


async def test_hooks_run_in_order_each_seeing_previous_result() -> None:
    class Suffix(DefaultInterventionHandler):
        def __init__(self, suffix: str) -> None:
            self.suffix = suffix

        async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
            return message + self.suffix

    runtime = await _runtime(Suffix("1"), Suffix("2"))
    assert await runtime.send_message("m", AgentId("echo", "k")) == "echo:m12"
    await runtime.stop()


async def test_default_handler_is_a_pass_through_protocol_implementation() -> None:
    handler = DefaultInterventionHandler()
    assert isinstance(handler, InterventionHandler)
    runtime = await _runtime(handler)
    assert await runtime.send_message("m", AgentId("echo", "k")) == "echo:m"
    await runtime.stop()


async def test_stop_finishes_current_dispatch_and_fails_the_queued_rest() -> None:
    entered = asyncio.Event()
    gate = asyncio.Event()

    class Gate(DefaultInterventionHandler):
        async def on_send(self, message: Any, *, message_context: MessageContext, recipient: AgentId) -> Any:
            if message == "first":
                entered.set()
                await gate.wait()
            return message

    runtime = await _runtime(Gate())
    first = asyncio.create_task(runtime.send_message("first", AgentId("echo", "k")))
    await entered.wait()
    second = asyncio.create_task(runtime.send_message("second", AgentId("echo", "k")))
    await asyncio.sleep(0)
    assert runtime.unprocessed_messages_count == 1
    stopping = asyncio.create_task(runtime.stop())
    await asyncio.sleep(0)
    assert not stopping.done()  # waits for the message being dispatched
    gate.set()
    await stopping
    assert await first == "echo:first"
    with pytest.raises(RuntimeStoppedError):
        await second
    assert Echo.heard == ["first"]
