"""The in-process runtime: every agent lives on one asyncio event loop.

Delivery design (why it is fast without changing AutoGen's semantics):

* Each delivery runs in its own task, as in AutoGen, so a slow handler never holds up
  other messages and a handler may itself send and await replies.
* While the runtime is started, has no intervention handlers and nothing is queued, a
  send creates the handler task directly and awaits it: no envelope, no queue hop, no
  future, and no second task carrying the reply back. Publishes likewise create one task
  per recipient straight away. Task creation order is delivery order, so FIFO holds.
* Handler tasks are built with ``asyncio.Task`` itself when the loop has no task factory
  (``loop.create_task`` adds a Python-level call per task), and a published message's task
  does its own bookkeeping when it ends instead of scheduling a done callback: a fan-out
  costs one task per recipient and nothing else the loop must run.
* Otherwise messages wait in an ``asyncio.Queue`` that one loop task drains in order
  (before ``start()``, while draining a backlog, or to run intervention hooks one message
  at a time).
* Recipients of a topic are cached (see :class:`SubscriptionManager`), handlers per
  (agent class, message type) in :class:`RoutedAgent`, and no tracing or logging work is
  done per message unless enabled.
* A publish follows a plan per (topic, message type): each recipient's agent and, where no
  ``match`` predicate decides per message, its handler, found once instead of in every
  delivery (``_plan``). A delivery task then builds its ``MessageContext``, sets the handler
  context and awaits the handler's own coroutine; anything the plan could not settle is
  dispatched on delivery as before.

The methods that only forward to the registry (registration, agent lookup, state,
subscriptions, serializers) are inherited from :class:`RuntimeRegistryAPI`
(``_runtime_registry_api``); this module keeps delivery and the lifecycle.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from . import EVENT_LOGGER_NAME, ROOT_LOGGER_NAME
from ._agent import Agent
from ._agent_id import AgentId
from ._agent_registry import AgentRegistry
from ._base_agent import BaseAgent
from ._cancellation_token import CancellationToken
from ._envelopes import PublishEnvelope, SendEnvelope, new_message_id
from ._intervention import InterventionHandler, is_drop
from ._message_context import MessageContext
from ._message_handler_context import MessageHandlerContext
from ._routed_agent import RoutedAgent
from ._runtime_registry_api import RuntimeRegistryAPI, close_agents
from ._serialization import SerializationRegistry
from ._subscription_manager import SubscriptionManager
from ._topic import TopicId
from .exceptions import (
    MessageDroppedException,
    RuntimeStoppedError,
    UnknownAgentTypeError,
)

__all__ = ["SingleThreadedAgentRuntime"]

_logger = logging.getLogger(ROOT_LOGGER_NAME)
_event_logger = logging.getLogger(EVENT_LOGGER_NAME)
_HANDLER_AGENT = MessageHandlerContext._CURRENT
_STOP_WHEN_POLL_SECONDS = 0.1
"""How often ``stop_when`` re-checks its condition when no message completes meanwhile."""

_BASE_ON_MESSAGE = BaseAgent.on_message
_ROUTED_ON_MESSAGE_IMPL = RoutedAgent.on_message_impl
_Task = asyncio.Task
_new_context = object.__new__
_current_tasks = getattr(asyncio.tasks, "_current_tasks", None)
# The running task of a loop: ``asyncio.current_task`` is a Python function on 3.11 (C from
# 3.12), and a published message's task calls this once as it ends; on 3.11 the dict it reads
# is asked directly.
_current_task: Callable[[asyncio.AbstractEventLoop], asyncio.Task[Any] | None] = (
    _current_tasks.get if type(_current_tasks) is dict else asyncio.current_task
)


def _entry(agent: Agent) -> Callable[[Any, MessageContext], Awaitable[Any]]:
    """The agent's ``on_message``, or straight its ``on_message_impl`` when that is all it does.

    ``BaseAgent.on_message`` only awaits ``on_message_impl``; skipping it saves a coroutine
    per delivery. An agent overriding ``on_message`` (or not a ``BaseAgent``) gets its own.
    """
    if type(agent).on_message is _BASE_ON_MESSAGE:
        return agent.on_message_impl  # type: ignore[attr-defined, no-any-return]
    return agent.on_message


def _new_task(coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    """``asyncio.create_task``, without its Python-level layers when the loop has no task factory."""
    loop = asyncio.get_running_loop()
    if loop.get_task_factory() is None:
        return _Task(coro, loop=loop)
    return loop.create_task(coro)


Envelope = SendEnvelope | PublishEnvelope

_Recipient = tuple[str, AgentId, Agent | None, Any, str]
"""One recipient in a delivery plan: its agent type (for the task table), its id, its agent
(``None`` until built), the handler every publish of the plan's message type reaches
(``RoutedAgent``'s picked-handler triple; ``None``: dispatch on delivery) and the name of
its delivery tasks."""
_Publication = tuple[Any, AgentId | None, TopicId, CancellationToken, str, asyncio.AbstractEventLoop]
"""What every recipient of one publish shares: message, sender, topic, token, id and loop."""


class SingleThreadedAgentRuntime(RuntimeRegistryAPI):
    """Runs agents in this process on the current event loop.

    Args:
        intervention_handlers: Hooks run on every send, publish and reply, in order.
        tracer_provider: An OpenTelemetry ``TracerProvider``; when given, every delivery is
            wrapped in a span. When ``None`` no tracing work is done at all.
        ignore_unhandled_exceptions: When ``False``, the first exception raised by a
            handler of a *published* message is re-raised from :meth:`stop`,
            :meth:`stop_when_idle` or :meth:`stop_when`. Exceptions of *sent* messages
            always go to the sender.
    """

    def __init__(
        self,
        *,
        intervention_handlers: list[InterventionHandler] | None = None,
        tracer_provider: Any | None = None,
        ignore_unhandled_exceptions: bool = True,
    ) -> None:
        self._interventions: tuple[InterventionHandler, ...] = tuple(intervention_handlers or ())
        self._tracer: Any | None = (
            tracer_provider.get_tracer("muster.core") if tracer_provider is not None else None
        )
        self._ignore_unhandled_exceptions = ignore_unhandled_exceptions
        self._registry = AgentRegistry(self)
        self._instances = self._registry.instances
        self._registrations = self._registry.registrations
        self._subscriptions = SubscriptionManager()
        self._serializers = SerializationRegistry()
        # Created when first needed (start, or a message sent before start) and dropped on
        # stop: an embedded runtime that is idle, as in every team that is not running,
        # holds no queue (an ``asyncio.Queue`` is about 3 KiB).
        self._queue: asyncio.Queue[Envelope] | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._direct = False
        self._stopping = False
        self._loop_waiting = False
        self._dispatching = False
        # Every handler task still running, with the agent type it delivers to: close()
        # cancels them, unregister_agent_type() refuses a type that still has some.
        self._tasks: dict[asyncio.Task[Any], str] = {}
        self._closed = False
        self._closing = False
        self._idle_event: asyncio.Event | None = None
        self._stop_check: asyncio.Event | None = None
        self._background_exception: BaseException | None = None

    # ------------------------------------------------------------------ messaging

    @property
    def unprocessed_messages_count(self) -> int:
        """Messages still waiting in the queue (not yet handed to a handler task)."""
        return 0 if self._queue is None else self._queue.qsize()

    async def send_message(
        self,
        message: Any,
        recipient: AgentId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> Any:
        """Deliver ``message`` to ``recipient`` and return its handler's reply.

        Before :meth:`start` the message waits in the queue and this call waits with it.

        Raises:
            UnknownAgentTypeError: ``recipient.type`` is not registered (also a ``LookupError``).
            CantHandleException: the recipient has no handler for the message.
            MessageDroppedException: an intervention handler dropped the message or reply.
            RuntimeStoppedError: the runtime stopped while the message was still queued.
            asyncio.CancelledError: ``cancellation_token`` was cancelled; the handler is cancelled too.
            Exception: whatever the handler raised, unchanged.
        """
        if recipient.type not in self._registrations:
            raise UnknownAgentTypeError(recipient.type)
        linked = cancellation_token is not None
        if cancellation_token is None:
            cancellation_token = CancellationToken()
        if message_id is None:
            message_id = new_message_id()
        if _event_logger.isEnabledFor(logging.DEBUG):
            _event_logger.debug("send %s -> %s (%s)", type(message).__name__, recipient, message_id)
        queue = self._queue
        if self._direct and (queue is None or queue.empty()):
            task = _new_task(self._deliver_send(message, recipient, sender, cancellation_token, message_id))
            self._track(task, recipient.type)
            if linked:
                cancellation_token.link_future(task)
            return await task
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if linked:
            cancellation_token.link_future(future)
        self._enqueue(SendEnvelope(message, recipient, sender, cancellation_token, message_id, future))
        return await future

    async def publish_message(
        self,
        message: Any,
        topic_id: TopicId,
        *,
        sender: AgentId | None = None,
        cancellation_token: CancellationToken | None = None,
        message_id: str | None = None,
    ) -> None:
        """Deliver ``message`` to every agent subscribed to ``topic_id``, except ``sender``.

        Returns once delivery is scheduled, without waiting for handlers. Handler
        exceptions are logged (see ``ignore_unhandled_exceptions``); publishing to a topic
        nobody subscribes to is not an error.
        """
        if cancellation_token is None:
            cancellation_token = CancellationToken()
        if message_id is None:
            message_id = new_message_id()
        if _event_logger.isEnabledFor(logging.DEBUG):
            _event_logger.debug("publish %s -> %s (%s)", type(message).__name__, topic_id, message_id)
        queue = self._queue
        if self._direct and (queue is None or queue.empty()):
            self._fan_out(message, topic_id, sender, cancellation_token, message_id)
            return
        self._enqueue(PublishEnvelope(message, topic_id, sender, cancellation_token, message_id))

    def _enqueue(self, envelope: Envelope) -> None:
        if self._closing:
            # A handler being cancelled by close() that sends or publishes in its cleanup:
            # nothing will ever deliver it, and a queued send would keep close() waiting on
            # that handler forever.
            if isinstance(envelope, SendEnvelope):
                envelope.future.set_exception(RuntimeStoppedError(envelope.recipient))
            else:
                _logger.warning(
                    "Runtime closing: discarded %s published to %s",
                    type(envelope.message).__name__,
                    envelope.topic_id,
                )
            return
        queue = self._queue
        if queue is None:
            queue = self._queue = asyncio.Queue()
        queue.put_nowait(envelope)

    def _track(self, task: asyncio.Task[Any], agent_type: str) -> None:
        self._tasks[task] = agent_type
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.pop(task, None)
        if not task.cancelled():
            # Mark the exception retrieved: the sender re-raises it, and when the sender
            # itself was cancelled nobody should see "exception was never retrieved".
            task.exception()
        self._notify()

    def _notify(self) -> None:
        if self._idle_event is not None and self._is_idle():
            self._idle_event.set()
        if self._stop_check is not None:
            self._stop_check.set()

    def _is_idle(self) -> bool:
        return not self._tasks and not self._dispatching and (self._queue is None or self._queue.empty())

    async def _deliver_send(
        self,
        message: Any,
        recipient: AgentId,
        sender: AgentId | None,
        cancellation_token: CancellationToken,
        message_id: str,
    ) -> Any:
        agent = self._instances.get(recipient)
        if agent is None:
            agent = await self._registry.get(recipient)
        ctx = MessageContext(sender, None, True, cancellation_token, message_id)
        # Each delivery runs in its own task, whose context is a private copy: no reset needed.
        _HANDLER_AGENT.set(recipient)
        cls = type(agent)
        if self._tracer is not None:
            result = await self._traced(agent, message, ctx)
        elif cls.on_message is _BASE_ON_MESSAGE and cls.on_message_impl is _ROUTED_ON_MESSAGE_IMPL:  # type: ignore[attr-defined]
            # RoutedAgent's dispatch, inlined: the handler's own coroutine runs in this task.
            picked = agent._pick_handler(message, ctx)  # type: ignore[attr-defined]
            if picked is None:
                result = await agent.on_unhandled_message(message, ctx)  # type: ignore[attr-defined]
            else:
                func, returnable, check = picked
                result = await func(agent, message, ctx)
                if returnable is not None and type(result) not in returnable:
                    check(result)
        else:
            result = await _entry(agent)(message, ctx)
        if self._interventions:
            result = await self._intercept_response(result, recipient, sender)
        return result

    async def _deliver_event(self, recipient: _Recipient, publication: _Publication) -> None:
        # Few locals and a shallow stack (no tuple unpacking): a fan-out creates every
        # delivery's coroutine before any runs, and its frame, sized by both, is what each
        # pending delivery holds and the garbage collector walks (320 bytes with 12 locals and
        # unpacking, 256 now).
        #
        # The context is built here, when the task starts, not by _fan_out: see there. Its
        # fields are set one by one: the dataclass's ``__init__`` costs a Python call through
        # the type's slots, about 0.8k instructions more per delivery (the fields are pinned
        # by tests/core/test_runtime_publish.py).
        ctx = _new_context(MessageContext)
        ctx.sender = publication[1]
        ctx.topic_id = publication[2]
        ctx.is_rpc = False
        ctx.cancellation_token = publication[3]
        ctx.message_id = publication[4]
        try:
            handler = recipient[3]
            if handler is None:
                await self._dispatch_event(recipient[2], recipient[1], publication[0], ctx)
            else:
                # The plan's handler (see _plan): the agent and its route were found once
                # for every publish of this message type to this topic.
                _HANDLER_AGENT.set(recipient[1])
                result = await handler[0](recipient[2], publication[0], ctx)
                if handler[1] is not None and type(result) not in handler[1]:
                    handler[2](result)
        except Exception as exc:
            self._report_delivery_error(publication, recipient, exc)
        finally:
            # The task's own bookkeeping (see _fan_out). A task cancelled before it started
            # never gets here; only close() cancels these, and it forgets them itself.
            self._tasks.pop(_current_task(publication[5]), None)  # type: ignore[arg-type]
            # Idle needs no running task: only the last one to end can make the runtime idle.
            if (self._idle_event is not None and not self._tasks) or self._stop_check is not None:
                self._notify()

    async def _dispatch_event(
        self, agent: Agent | None, agent_id: AgentId, message: Any, ctx: MessageContext
    ) -> None:
        """A published message's delivery that its plan could not settle in advance.

        The agent may not exist yet (``None``: built now), its handler may depend on a
        ``match`` predicate, it may not be a plain ``RoutedAgent``, or deliveries are traced.
        """
        if agent is None:
            agent = self._instances.get(agent_id)
            if agent is None:
                agent = await self._registry.get(agent_id)
        _HANDLER_AGENT.set(agent_id)
        cls = type(agent)
        if self._tracer is not None:
            await self._traced(agent, message, ctx)
        elif cls.on_message is _BASE_ON_MESSAGE and cls.on_message_impl is _ROUTED_ON_MESSAGE_IMPL:  # type: ignore[attr-defined]
            # RoutedAgent's dispatch, inlined (see _deliver_send).
            picked = agent._pick_handler(message, ctx)  # type: ignore[attr-defined]
            if picked is None:
                await agent.on_unhandled_message(message, ctx)  # type: ignore[attr-defined]
            else:
                func, returnable, check = picked
                result = await func(agent, message, ctx)
                if returnable is not None and type(result) not in returnable:
                    check(result)
        else:
            await _entry(agent)(message, ctx)

    async def _traced(self, agent: Agent, message: Any, ctx: MessageContext) -> Any:
        tracer = self._tracer
        assert tracer is not None
        attributes = {
            "messaging.operation": "process",
            "messaging.destination": str(agent.id),
            "messaging.message.id": ctx.message_id,
            "messaging.message.type": type(message).__name__,
            "messaging.message.rpc": ctx.is_rpc,
        }
        with tracer.start_as_current_span(f"process {agent.id}", attributes=attributes):
            return await agent.on_message(message, ctx)

    def _report_delivery_error(
        self, publication: _Publication, recipient: _Recipient, exc: Exception
    ) -> None:
        # Out of _deliver_event, whose frame every pending delivery holds: building the
        # message there would deepen its stack.
        self._report_background_error(
            f"handling {type(publication[0]).__name__} published to {recipient[1]}", exc
        )

    def _report_background_error(self, what: str, exc: BaseException) -> None:
        _logger.error("Error %s", what, exc_info=exc)
        if not self._ignore_unhandled_exceptions and self._background_exception is None:
            self._background_exception = exc
            if self._idle_event is not None:
                self._idle_event.set()

    def _fan_out(
        self,
        message: Any,
        topic_id: TopicId,
        sender: AgentId | None,
        cancellation_token: CancellationToken,
        message_id: str,
    ) -> None:
        plan = self._subscriptions.plans.get((topic_id.type, topic_id.source, type(message)))
        if plan is None:
            plan = self._plan(topic_id, type(message))
        if not plan:
            return
        loop = asyncio.get_running_loop()
        direct = loop.get_task_factory() is None
        tasks = self._tasks
        deliver = self._deliver_event
        # One tuple for what every recipient shares: the coroutine of each delivery holds it
        # instead of six arguments of its own.
        publication: _Publication = (message, sender, topic_id, cancellation_token, message_id, loop)
        for recipient in plan:
            if sender is not None and recipient[1] == sender:
                continue
            # Each recipient gets its own MessageContext, but the task builds it when it starts:
            # a large fan-out creates every task before the first runs, and each object they
            # all hold until then is more for the garbage collector to scan, again and again
            # (about 0.5 µs per delivery for this one, with 30,000 deliveries pending).
            coro = deliver(recipient, publication)
            # No done callback: _deliver_event removes its task from ``tasks`` as it ends. The
            # name is the plan's: asyncio would format a new "Task-<n>" for each.
            name = recipient[4]
            task = _Task(coro, loop=loop, name=name) if direct else loop.create_task(coro, name=name)
            tasks[task] = recipient[0]

    def _plan(self, topic_id: TopicId, message_type: type[Any]) -> tuple[_Recipient, ...]:
        """Who receives ``message_type`` published to ``topic_id``, and with which handler.

        Finding each recipient's agent (a dict lookup hashing its ``AgentId``) and its route
        once per topic and message type, instead of in every delivery, is what the plan
        saves. It is kept (in ``self._subscriptions.plans``, dropped whenever subscriptions
        change or agents are removed) only once every recipient's agent exists: the first
        delivery builds an agent, and until then each publish plans again. A recipient whose
        handler a ``match`` predicate picks, or that is not a plain ``RoutedAgent``, or any
        recipient while tracing, gets no handler in the plan and is dispatched on delivery.
        """
        instances = self._instances
        complete = True
        plan: list[_Recipient] = []
        for agent_id in self._subscriptions.recipients(topic_id):
            agent = instances.get(agent_id)
            picked = None
            if agent is None:
                complete = False
            elif self._tracer is None:
                cls = type(agent)
                if cls.on_message is _BASE_ON_MESSAGE and cls.on_message_impl is _ROUTED_ON_MESSAGE_IMPL:  # type: ignore[attr-defined]
                    picked = cls._published_handler(message_type)  # type: ignore[attr-defined]
            plan.append((agent_id._type, agent_id, agent, picked, f"deliver to {agent_id}"))
        result = tuple(plan)
        if complete:
            self._subscriptions.keep_plan((topic_id.type, topic_id.source, message_type), result)
        return result

    def _start_send(self, envelope: SendEnvelope, message: Any) -> None:
        future = envelope.future
        task = _new_task(
            self._deliver_send(
                message, envelope.recipient, envelope.sender, envelope.cancellation_token, envelope.message_id
            )
        )
        self._track(task, envelope.recipient.type)

        def reply(done: asyncio.Task[Any]) -> None:
            if future.done():
                return
            if done.cancelled():
                future.cancel()
            elif (exc := done.exception()) is not None:
                future.set_exception(exc)
            else:
                future.set_result(done.result())

        def abandon(done: asyncio.Future[Any]) -> None:
            if done.cancelled():
                task.cancel()

        task.add_done_callback(reply)
        future.add_done_callback(abandon)

    # ------------------------------------------------------------------ queue loop

    async def _run(self) -> None:
        queue = self._queue
        assert queue is not None, "start() creates the queue"
        while not self._stopping:
            self._loop_waiting = True
            try:
                envelope = await queue.get()
            finally:
                self._loop_waiting = False
            self._dispatching = True
            try:
                if self._interventions:
                    await self._dispatch_intercepted(envelope)
                else:
                    self._dispatch(envelope)
                    while not queue.empty():
                        self._dispatch(queue.get_nowait())
            finally:
                self._dispatching = False
            self._notify()

    def _dispatch(self, envelope: Envelope) -> None:
        if isinstance(envelope, SendEnvelope):
            if not envelope.future.done():  # the sender may have given up while it waited
                self._start_send(envelope, envelope.message)
            return
        try:
            self._fan_out(
                envelope.message,
                envelope.topic_id,
                envelope.sender,
                envelope.cancellation_token,
                envelope.message_id,
            )
        except Exception as exc:
            self._report_background_error(f"routing message published to {envelope.topic_id}", exc)

    async def _dispatch_intercepted(self, envelope: Envelope) -> None:
        if isinstance(envelope, SendEnvelope):
            future = envelope.future
            if future.done():
                return
            ctx = MessageContext(
                envelope.sender, None, True, envelope.cancellation_token, envelope.message_id
            )
            message = envelope.message
            for handler in self._interventions:
                try:
                    message = await handler.on_send(
                        message, message_context=ctx, recipient=envelope.recipient
                    )
                except Exception as exc:
                    if not future.done():
                        future.set_exception(exc)
                    return
                _warn_if_none(message, handler, "on_send")
                if is_drop(message):
                    if not future.done():
                        future.set_exception(
                            MessageDroppedException(
                                f"{type(handler).__name__} dropped the message to {envelope.recipient}"
                            )
                        )
                    return
            self._start_send(envelope, message)
            return
        ctx = MessageContext(
            envelope.sender, envelope.topic_id, False, envelope.cancellation_token, envelope.message_id
        )
        message = envelope.message
        for handler in self._interventions:
            try:
                message = await handler.on_publish(message, message_context=ctx)
            except Exception as exc:
                self._report_background_error(f"in {type(handler).__name__}.on_publish", exc)
                return
            _warn_if_none(message, handler, "on_publish")
            if is_drop(message):
                _logger.info(
                    "%s dropped a message published to %s", type(handler).__name__, envelope.topic_id
                )
                return
        envelope.message = message
        self._dispatch(envelope)

    async def _intercept_response(self, message: Any, sender: AgentId, recipient: AgentId | None) -> Any:
        for handler in self._interventions:
            message = await handler.on_response(message, sender=sender, recipient=recipient)
            _warn_if_none(message, handler, "on_response")
            if is_drop(message):
                raise MessageDroppedException(f"{type(handler).__name__} dropped the reply of {sender}")
        return message

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start processing messages in a background task on the running event loop.

        Raises:
            RuntimeError: already started.
        """
        if self._run_task is not None:
            raise RuntimeError("Runtime is already started")
        self._stopping = False
        self._closed = False
        if self._queue is None:
            self._queue = asyncio.Queue()
        self._run_task = asyncio.create_task(self._run())
        self._direct = not self._interventions

    async def stop(self) -> None:
        """Stop at once: handlers already running finish, queued messages are discarded.

        Senders whose messages are discarded get :class:`RuntimeStoppedError` instead of
        waiting forever.

        Raises:
            RuntimeError: not started.
        """
        if self._run_task is None:
            raise RuntimeError("Runtime is not started")
        await self._halt()
        self._raise_background_exception()

    async def stop_when_idle(self) -> None:
        """Wait until no message is queued or being handled, then stop.

        Raises:
            RuntimeError: not started.
            Exception: the first handler exception of a published message, when
                ``ignore_unhandled_exceptions`` is ``False`` (stops early in that case).
        """
        if self._run_task is None:
            raise RuntimeError("Runtime is not started")
        if self._idle_event is None:
            self._idle_event = asyncio.Event()
        idle_event = self._idle_event
        while not self._is_idle() and self._background_exception is None:
            idle_event.clear()
            await idle_event.wait()
        if self._run_task is not None:
            await self._halt()
        self._raise_background_exception()

    async def stop_when(self, condition: Callable[[], bool]) -> None:
        """Stop as soon as ``condition()`` is true.

        The condition is re-checked whenever a delivery completes (and at least every
        0.1 s, for conditions that depend on outside state), not by a busy loop.

        Raises:
            RuntimeError: not started.
        """
        if self._run_task is None:
            raise RuntimeError("Runtime is not started")
        check = self._stop_check = self._stop_check or asyncio.Event()
        while not condition():
            check.clear()
            try:
                await asyncio.wait_for(check.wait(), _STOP_WHEN_POLL_SECONDS)
            except TimeoutError:
                pass
        if self._run_task is not None:
            await self._halt()
        self._raise_background_exception()

    async def close(self) -> None:
        """Stop, cancel every running handler and wait for it to end, then close every agent.

        Unlike :meth:`stop`, which lets running handlers finish, ``close`` ends the
        runtime's work: handler tasks are cancelled (senders waiting on them get
        ``CancelledError``) and awaited, so nothing the runtime started outlives the call.
        A handler that calls ``close`` itself is not cancelled or awaited (it would wait
        for itself).

        A handler that sends a message while being cancelled gets
        :class:`RuntimeStoppedError` (nothing would deliver it); one that ignores
        cancellation keeps ``close`` waiting.

        Calling it again does nothing more (agents are closed once), unless the runtime
        was started again in between. An exception from an agent's ``close`` propagates
        once every agent has been closed.
        """
        self._closing = True
        try:
            if self._run_task is not None:
                await self._halt()
            self._discard_queue()
            await self._cancel_handlers()
        finally:
            self._closing = False
        if self._closed:
            return
        self._closed = True
        await close_agents(list(self._instances.values()))

    async def _cancel_handlers(self) -> None:
        current = asyncio.current_task()
        while pending := [task for task in self._tasks if task is not current]:
            for task in pending:
                task.cancel()
            await asyncio.wait(pending)
            for task in pending:  # a published message's task cancelled before it started
                self._tasks.pop(task, None)

    async def _halt(self) -> None:
        self._direct = False
        self._stopping = True
        task = self._run_task
        assert task is not None
        if self._loop_waiting:
            task.cancel()
        await asyncio.wait({task})
        self._run_task = None
        self._stop_check = None
        if not task.cancelled() and (exc := task.exception()) is not None:
            _logger.error("The runtime loop failed", exc_info=exc)
        self._discard_queue()

    def _discard_queue(self) -> None:
        queue, self._queue = self._queue, None
        if queue is None:
            return
        while not queue.empty():
            envelope = queue.get_nowait()
            if isinstance(envelope, SendEnvelope):
                if not envelope.future.done():
                    envelope.future.set_exception(RuntimeStoppedError(envelope.recipient))
            else:
                _logger.warning(
                    "Runtime stopped: discarded %s published to %s",
                    type(envelope.message).__name__,
                    envelope.topic_id,
                )
        # The next start() (or early send) creates a fresh queue, bound to whichever event
        # loop it runs on.

    def _raise_background_exception(self) -> None:
        exc, self._background_exception = self._background_exception, None
        if exc is not None:
            raise exc


def _warn_if_none(value: Any, handler: InterventionHandler, hook: str) -> None:
    if value is None:
        warnings.warn(
            f"{type(handler).__name__}.{hook} returned None; return the message or DropMessage explicitly",
            RuntimeWarning,
            stacklevel=3,
        )
