"""What the HTTP routes ask of the service: the rules between a request and the store/executor.

Routes validate and authorise, then call one function here; nothing here knows HTTP. The
:class:`Services` object is what the app's lifespan builds: the settings, the store, the
executor, the notifier and the limits, per app (no module-level state).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from muster.messages import BaseChatMessage, MessageFactory

from .exceptions import InvalidRequestError, NotFoundError, OverloadedError, StoreUnavailableError
from .execution import Executor
from .execution._runstart import text_task
from .models import Run, RunCreate, RunStatus, SpecRecord
from .notify import Notifier, Subscription
from .settings import ServiceSettings
from .store.base import STOP_CANCEL, Store, result_from_notice
from .streaming import POLL_SECONDS, StreamLimiter
from .tracing import with_trace_context

__all__ = [
    "Services",
    "cancel_run",
    "parse_spec_ref",
    "start_run",
    "task_messages",
    "wait_for_end",
]

_FACTORY = MessageFactory()


@dataclass
class Services:
    """Everything one app serves with (built by the lifespan, kept on ``app.state``)."""

    settings: ServiceSettings
    store: Store
    executor: Executor
    notifier: Notifier
    streams: StreamLimiter
    memory: Any = None
    """A ``muster.ops.MemoryMonitor`` whose backpressure refuses new runs, or ``None``."""
    metrics: Any = None
    """The Prometheus metrics (``metrics.ServiceMetrics``), or ``None`` when disabled."""


def parse_spec_ref(ref: str) -> tuple[str, int | None]:
    """``name`` or ``name@version`` -> (name, version).

    Raises:
        InvalidRequestError: the version is not a positive integer.
    """
    name, sep, version = ref.partition("@")
    if not sep:
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise InvalidRequestError("the version after '@' must be a positive integer", field="spec")
    return name, int(version)


def task_messages(task: str | Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The task as message JSON: text becomes a ``TextMessage`` from ``user``.

    Raises:
        InvalidRequestError: an item is not a chat message (naming it: ``task.1``).
    """
    if task is None:
        return None
    if isinstance(task, str):
        return text_task(task)
    messages: list[dict[str, Any]] = []
    for index, item in enumerate(task):
        try:
            message = _FACTORY.create(dict(item))
        except (ValidationError, ValueError, TypeError, KeyError) as exc:
            raise InvalidRequestError(
                f"not a chat message: {_first_line(exc)}", field=f"task.{index}"
            ) from None
        if not isinstance(message, BaseChatMessage):
            raise InvalidRequestError(
                f"a {type(message).__name__} is an event, not a chat message", field=f"task.{index}"
            )
        messages.append(dict(message.dump()))
    return messages


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


async def start_run(
    services: Services,
    thread_id: str,
    body: RunCreate,
    on_created: Callable[[Run], None] | None = None,
) -> Run:
    """Store a new run on the thread (applying its strategy) and hand it to the executor.

    The run is stored before anything else may fail, and the executor never drops a
    stored run, so an accepted run always runs. ``on_created`` is called with the stored
    run before it is submitted (a waiter subscribes to its notifications there).

    Raises:
        StoreUnavailableError: the service is draining (503: retry on another replica).
        OverloadedError: the queue is full or memory is critical (429 with Retry-After).
        NotFoundError: the thread or the spec does not exist.
        ConflictError: the thread is busy and the strategy is ``reject``.
    """
    if services.executor.draining:
        raise StoreUnavailableError("the server is shutting down; retry on another replica")
    if services.memory is not None and services.memory.backpressure:
        raise OverloadedError("memory is critical; new runs are refused for now", retry_after=5)
    name, version = parse_spec_ref(body.spec)
    # The latest version: the store resolves it as it creates the run, so a spec this
    # process has seen needs no lookup first (another replica may have stored a newer one).
    known = services.store.known_spec(name) if version is None else None
    try:
        spec: SpecRecord = known or await services.store.get_spec(name, version)
    except NotFoundError as exc:
        await services.store.get_thread(thread_id)  # a missing thread is the 404 to report first
        raise InvalidRequestError(str(exc), field="spec") from None
    enqueue = services.executor.enqueue_in()  # PostgreSQL: the job commits with the run
    run = await services.store.create_run(
        thread_id,
        spec,
        task_messages(body.task),
        body.strategy,
        max_queue=services.settings.agents.max_queue,
        metadata=with_trace_context(body.metadata),
        on_insert=enqueue,
        latest=version is None,
    )
    if on_created is not None:
        on_created(run)
    await services.executor.submit(run, enqueued=enqueue is not None)
    return run


async def cancel_run(services: Services, run_id: str) -> Run:
    """Ask the run to stop (a pending run stops at once, a running one at its turn).

    Raises:
        NotFoundError: no such run.
        ConflictError: the run already stopped.
    """
    run = await services.store.request_stop(run_id, STOP_CANCEL)
    if run.status is RunStatus.RUNNING:
        await services.executor.cancel(run_id)
    else:  # stopped here and now: wake its waiters (a running run's worker does that)
        with contextlib.suppress(Exception):
            await services.notifier.publish(run_id, ended=True)
    return run


async def wait_for_end(
    services: Services, run_id: str, subscription: Subscription | None = None
) -> tuple[Run, list[dict[str, Any]]]:
    """Wait until the run stops (its ``end`` event); returns it and the messages it wrote.

    ``subscription``: one taken before the run was submitted (:func:`start_run`'s
    ``on_created``), so that nothing it publishes is missed: the store is then read once,
    when the run's last write is announced (or a poll finds it ended), not after every
    turn. Without one, the wait subscribes now and reads the store first.
    """
    if subscription is None:
        with services.notifier.subscribe(run_id) as subscription:
            return await _wait(services, run_id, subscription, read_first=True)
    return await _wait(services, run_id, subscription, read_first=False)


async def _wait(
    services: Services, run_id: str, subscription: Subscription, *, read_first: bool
) -> tuple[Run, list[dict[str, Any]]]:
    read = read_first
    while True:
        if read:
            result = await services.store.run_result(run_id)
            if result is not None:
                return result
        woken = await subscription.wait(POLL_SECONDS)
        # Read when the run announced its end, when a wake-up may have been one (a
        # listener reconnected), or when a poll interval passed (a lost notification).
        ended = subscription.ended
        read = not woken or ended
        notices = subscription.clear()
        if ended and notices:
            carried = result_from_notice(notices[-1])  # the end's notification carried the result
            if carried is not None:
                return carried
