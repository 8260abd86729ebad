"""send_message / publish_message semantics of SingleThreadedAgentRuntime."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from muster.core import (
    AgentId,
    AgentInstantiationContext,
    BaseAgent,
    CancellationToken,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)
from muster.core.exceptions import (
    AgentRegistrationError,
    RuntimeStoppedError,
    UndeliverableException,
    UnknownAgentTypeError,
)


@dataclass
class Ask:
    text: str


@dataclass
class Wait:
    """Handler blocks on ``gate`` after setting ``started``."""

    started: asyncio.Event
    gate: asyncio.Event


class Worker(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("worker")
        self.cancelled = asyncio.Event()

    @message_handler
    async def on_ask(self, message: Ask, ctx: MessageContext) -> str:
        if message.text == "fail":
            raise KeyError("handler failure")
        return f"{self.id.key}:{message.text}:{ctx.sender}"

    @message_handler
    async def on_wait(self, message: Wait, ctx: MessageContext) -> str:
        message.started.set()
        try:
            await message.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return "released"


class Forwarder(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("forwards asks to the worker with the same key")

    @message_handler
    async def on_ask(self, message: Ask, ctx: MessageContext) -> str:
        return await self.send_message(message, AgentId("worker", self.id.key))


@pytest.fixture
async def runtime() -> SingleThreadedAgentRuntime:
    rt = SingleThreadedAgentRuntime()
    await Worker.register(rt, "worker", Worker)
    await Forwarder.register(rt, "forwarder", Forwarder)
    return rt


async def test_reply_reaches_caller_and_sender_is_passed(runtime: SingleThreadedAgentRuntime) -> None:
    runtime.start()
    reply = await runtime.send_message(Ask("hi"), AgentId("worker", "w1"), sender=AgentId("boss", "b"))
    assert reply == "w1:hi:boss/b"
    assert await runtime.send_message(Ask("x"), AgentId("forwarder", "k")) == "k:x:forwarder/k"
    await runtime.stop()


async def test_handler_exception_is_reraised_at_caller(runtime: SingleThreadedAgentRuntime) -> None:
    runtime.start()
    with pytest.raises(KeyError, match="handler failure"):
        await runtime.send_message(Ask("fail"), AgentId("worker", "w"))
    # and through a nested send
    with pytest.raises(KeyError, match="handler failure"):
        await runtime.send_message(Ask("fail"), AgentId("forwarder", "w"))
    await runtime.stop()


async def test_unknown_agent_type_is_a_typed_lookup_error(runtime: SingleThreadedAgentRuntime) -> None:
    runtime.start()
    with pytest.raises(UnknownAgentTypeError) as info:
        await runtime.send_message(Ask("x"), AgentId("nobody", "k"))
    assert isinstance(info.value, LookupError) and isinstance(info.value, UndeliverableException)
    assert info.value.agent_type == "nobody"
    with pytest.raises(LookupError):
        await runtime.get("nobody", lazy=False)
    with pytest.raises(LookupError):
        await runtime.agent_metadata(AgentId("nobody", "k"))
    await runtime.stop()


async def test_send_before_start_progresses_after_start(runtime: SingleThreadedAgentRuntime) -> None:
    pending = asyncio.create_task(runtime.send_message(Ask("early"), AgentId("worker", "w")))
    await asyncio.sleep(0)  # let the send enqueue
    assert runtime.unprocessed_messages_count == 1
    assert not pending.done()
    runtime.start()
    assert await pending == "w:early:None"
    assert runtime.unprocessed_messages_count == 0
    await runtime.stop()


async def test_close_fails_sends_queued_while_stopped(runtime: SingleThreadedAgentRuntime) -> None:
    pending = asyncio.create_task(runtime.send_message(Ask("never"), AgentId("worker", "w")))
    await asyncio.sleep(0)
    await runtime.close()
    with pytest.raises(RuntimeStoppedError) as info:
        await pending
    assert info.value.recipient == AgentId("worker", "w")


async def test_slow_handler_does_not_block_other_messages(runtime: SingleThreadedAgentRuntime) -> None:
    runtime.start()
    wait = Wait(asyncio.Event(), asyncio.Event())
    slow = asyncio.create_task(runtime.send_message(wait, AgentId("worker", "same")))
    await wait.started.wait()
    # the same agent and another agent both answer while the first handler is blocked
    assert await runtime.send_message(Ask("a"), AgentId("worker", "same")) == "same:a:None"
    assert await runtime.send_message(Ask("b"), AgentId("worker", "other")) == "other:b:None"
    wait.gate.set()
    assert await slow == "released"
    await runtime.stop()


async def test_cancellation_token_cancels_caller_and_handler(runtime: SingleThreadedAgentRuntime) -> None:
    runtime.start()
    token = CancellationToken()
    wait = Wait(asyncio.Event(), asyncio.Event())
    call = asyncio.create_task(runtime.send_message(wait, AgentId("worker", "w"), cancellation_token=token))
    await wait.started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    worker = await runtime.try_get_underlying_agent_instance(AgentId("worker", "w"), Worker)
    await asyncio.wait_for(worker.cancelled.wait(), 5)
    await runtime.stop()


async def test_cancelling_the_awaiting_task_cancels_the_handler(runtime: SingleThreadedAgentRuntime) -> None:
    runtime.start()
    wait = Wait(asyncio.Event(), asyncio.Event())
    call = asyncio.create_task(runtime.send_message(wait, AgentId("worker", "w")))
    await wait.started.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    worker = await runtime.try_get_underlying_agent_instance(AgentId("worker", "w"), Worker)
    await asyncio.wait_for(worker.cancelled.wait(), 5)
    await runtime.stop_when_idle()


async def test_token_cancelled_before_send(runtime: SingleThreadedAgentRuntime) -> None:
    runtime.start()
    token = CancellationToken()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runtime.send_message(Ask("x"), AgentId("worker", "w"), cancellation_token=token)
    await runtime.stop()


async def test_queued_send_cancelled_before_dispatch(runtime: SingleThreadedAgentRuntime) -> None:
    token = CancellationToken()
    call = asyncio.create_task(
        runtime.send_message(Ask("x"), AgentId("worker", "w"), cancellation_token=token)
    )
    await asyncio.sleep(0)
    token.cancel()
    runtime.start()
    with pytest.raises(asyncio.CancelledError):
        await call
    await runtime.stop_when_idle()
    assert await runtime.save_state() == {}  # never delivered, so never instantiated


async def test_factories_get_context_and_instantiate_once_per_key() -> None:
    built: list[AgentId] = []
    gate = asyncio.Event()

    async def factory() -> Worker:
        built.append(AgentInstantiationContext.current_agent_id())
        await gate.wait()  # both first messages arrive while the factory is still running
        return Worker()

    runtime = SingleThreadedAgentRuntime()
    await runtime.register_factory("worker", factory)
    runtime.start()
    first = asyncio.create_task(runtime.send_message(Ask("1"), AgentId("worker", "k")))
    second = asyncio.create_task(runtime.send_message(Ask("2"), AgentId("worker", "k")))
    while not built:
        await asyncio.sleep(0)
    gate.set()
    assert await first == "k:1:None" and await second == "k:2:None"
    assert built == [AgentId("worker", "k")]
    await runtime.stop()


async def test_registration_errors() -> None:
    runtime = SingleThreadedAgentRuntime()
    await Worker.register(runtime, "worker", Worker)
    with pytest.raises(AgentRegistrationError):
        await Worker.register(runtime, "worker", Worker)
    with pytest.raises(ValueError):  # AutoGen code catches ValueError
        await runtime.register_factory("worker", Worker)
    await runtime.register_factory("wrong", Forwarder, expected_class=Worker)  # type: ignore[arg-type]
    runtime.start()
    with pytest.raises(AgentRegistrationError, match="expected Worker"):
        await runtime.send_message(Ask("x"), AgentId("wrong", "k"))
    await runtime.stop()


async def test_publish_fans_out_without_reply_and_ignores_empty_topics() -> None:
    received: list[str] = []
    done = asyncio.Event()

    class Sink(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("sink")

        @message_handler
        async def on_ask(self, message: Ask, ctx: MessageContext) -> str:
            assert not ctx.is_rpc and ctx.topic_id == TopicId("t", "s")
            received.append(self.id.type)
            if len(received) == 3:
                done.set()
            return "ignored"

    runtime = SingleThreadedAgentRuntime()
    for name in ("a", "b", "c"):
        await Sink.register(runtime, name, Sink)
        await runtime.add_subscription(TypeSubscription("t", name))
    runtime.start()
    assert await runtime.publish_message(Ask("x"), TopicId("t", "s")) is None  # type: ignore[func-returns-value]
    await runtime.publish_message(Ask("x"), TopicId("empty", "s"))
    await asyncio.wait_for(done.wait(), 5)
    assert sorted(received) == ["a", "b", "c"]
    await runtime.stop_when_idle()


async def test_message_ids_are_unique_and_shared_across_recipients() -> None:
    ids: list[tuple[str, str]] = []

    class IdRecorder(BaseAgent):
        async def on_message_impl(self, message: object, ctx: MessageContext) -> None:
            ids.append((self.id.type, ctx.message_id))

    runtime = SingleThreadedAgentRuntime()
    for name in ("a", "b"):
        await runtime.register_factory(name, lambda: IdRecorder("records ids"))
        await runtime.add_subscription(TypeSubscription("t", name))
    runtime.start()
    await runtime.publish_message("m1", TopicId("t", "s"))
    await runtime.publish_message("m2", TopicId("t", "s"), message_id="custom")
    await runtime.send_message("m3", AgentId("a", "s"))
    await runtime.stop_when_idle()
    by_message = {mid for _, mid in ids}
    assert len(ids) == 5 and len(by_message) == 3 and "custom" in by_message


async def test_a_token_shared_by_1000_sends_holds_no_callbacks_afterwards(
    runtime: SingleThreadedAgentRuntime,
) -> None:
    token = CancellationToken()
    # Queued before start, then delivered directly, failing, and abandoned by the sender.
    queued = [
        asyncio.create_task(
            runtime.send_message(Ask(str(i)), AgentId("worker", "q"), cancellation_token=token)
        )
        for i in range(100)
    ]
    runtime.start()
    await asyncio.gather(*queued)
    for i in range(900):
        await runtime.send_message(Ask(str(i)), AgentId("forwarder", "d"), cancellation_token=token)
    with pytest.raises(KeyError):
        await runtime.send_message(Ask("fail"), AgentId("worker", "d"), cancellation_token=token)
    started, gate = asyncio.Event(), asyncio.Event()
    abandoned = asyncio.create_task(
        runtime.send_message(Wait(started, gate), AgentId("worker", "d"), cancellation_token=token)
    )
    await asyncio.wait_for(started.wait(), 10)
    abandoned.cancel()
    with pytest.raises(asyncio.CancelledError):
        await abandoned
    await runtime.stop_when_idle()
    assert len(token._callbacks) == 0
