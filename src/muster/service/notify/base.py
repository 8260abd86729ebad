"""Notifier: wakes a run's event streams when the run writes; the store stays the truth.

A stream (``GET /v1/runs/{id}/events``) reads the run's events from the store, then waits
for more. What it waits on is a notifier: after every write, the runner publishes the
run's id; every process's notifier wakes its local subscribers to that run, who read the
store again from the last event they sent. A notification carries nothing but the id and,
for a run's last write, the word ``end`` (``"<run id> end"``: a ``/runs/wait`` reads the
store once, when the run ended, instead of after every turn). On PostgreSQL what the write
stored may follow, ``"<run id> turn <json>"`` or ``"<run id> end <json>"`` (the write's
events, and at an end the run's result: migration 0004), and subscribers keep it as the
wake-up's *notice*: a stream sends the events without reading them when they follow the
last one it sent, a wait answers with the result. A lost or duplicated notification
costs a delay or a read, never a missing or repeated event;
streams also re-read the store every few seconds for the notifications a reconnecting
listener may miss. Implementations (one file each):

- :class:`~.local.LocalNotifier`: in-process (SQLite, runs execute in the serving process);
- :class:`~.redis.RedisNotifier`: Redis pub/sub between replicas and workers;
- :class:`~.postgres.PostgresNotifier`: PostgreSQL ``LISTEN``/``NOTIFY`` when there is no Redis.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from types import TracebackType

__all__ = ["MAX_NOTICES", "Notifier", "Subscription", "listen_forever", "payload"]

MAX_NOTICES = 64
"""Notices a subscription keeps between two reads (beyond that its reader reads the store)."""

logger = logging.getLogger("muster.service.notify")


def payload(run_id: str, ended: bool) -> str:
    """What a notification carries: the run id, and `` end`` after the run's last write."""
    return f"{run_id} end" if ended else run_id


class Subscription:
    """One stream's wake-up flag for one run (a context manager: leaving unsubscribes)."""

    def __init__(self, notifier: Notifier, run_id: str) -> None:
        self._notifier = notifier
        self.run_id = run_id
        self._event = asyncio.Event()
        self.ended = False
        """Whether a wake-up since :meth:`clear` was the run's last write, or may have been
        (a wake-up of every stream after a listener reconnected tells nothing)."""
        self._notices: list[str] = []

    def clear(self) -> list[str]:
        """Forget earlier wake-ups (call it before reading the store); returns their notices.

        A notice is what a notification carried beyond the run id (JSON: see the module
        docstring; ``""`` when it carried nothing), one per wake-up, in the order the
        writes were made; at most :data:`MAX_NOTICES` are kept (a reader that fell that
        far behind reads the store).
        """
        self._event.clear()
        self.ended = False
        notices, self._notices = self._notices, []
        return notices

    def wake(self, ended: bool | None = False, notice: str | None = None) -> None:
        """Mark that the run wrote something (``ended``: its last write; ``None``: unknown).

        ``notice``: what the notification carried about the write, if anything.
        """
        if ended is not False:
            self.ended = True
        if len(self._notices) >= MAX_NOTICES:
            self._notices.clear()  # the reader fell behind: it reads the store
        # An empty notice stands for a write that carried nothing (or wake-ups that may
        # have been lost): whoever reads past it reads the store.
        self._notices.append(notice or "")
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        """Wait for a wake-up since :meth:`clear`; ``False`` when ``seconds`` passed first."""
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Unsubscribe (what leaving the ``with`` block does)."""
        self._notifier._unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._notifier._unsubscribe(self)


class Notifier(ABC):
    """Publishes "run X wrote" and wakes the local subscribers to X (see the module docstring)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    async def start(self, *, listen: bool = True) -> None:  # noqa: B027 - optional: nothing to start in-process
        """Connect and start listening (nothing to do for the in-process notifier).

        ``listen=False``: publish only. A process that never subscribes (a worker) would
        otherwise be woken by every run's notifications, and on PostgreSQL keep a backend
        busy forwarding them.
        """

    async def close(self) -> None:  # noqa: B027 - optional, as start
        """Stop listening and release connections."""

    async def ping(self) -> None:  # noqa: B027 - optional: only a remote notifier can be down
        """Raise unless the notifier's server answers (``/ready``)."""

    @abstractmethod
    async def publish(self, run_id: str, *, ended: bool = False) -> None:
        """Tell every process's subscribers to ``run_id`` that it wrote (``ended``: its last write)."""

    def subscribe(self, run_id: str) -> Subscription:
        """A subscription to ``run_id``'s writes (use it as a context manager)."""
        subscription = Subscription(self, run_id)
        self._subscribers.setdefault(run_id, set()).add(subscription)
        return subscription

    def wake_local(self, run_id: str, *, ended: bool = False, notice: str | None = None) -> None:
        """Wake this process's subscribers to ``run_id``."""
        for subscription in self._subscribers.get(run_id, ()):
            subscription.wake(ended, notice)

    def wake_payload(self, payload: str) -> None:
        """Wake this process's subscribers named by a notification's payload (see :func:`payload`)."""
        run_id, _, rest = payload.partition(" ")
        flag, _, notice = rest.partition(" ")
        self.wake_local(run_id, ended=flag == "end", notice=notice or None)

    def wake_all(self) -> None:
        """Wake every local subscriber (after a listener reconnected: it may have missed some)."""
        for subscriptions in self._subscribers.values():
            for subscription in subscriptions:
                subscription.wake(None)

    def _unsubscribe(self, subscription: Subscription) -> None:
        subscriptions = self._subscribers.get(subscription.run_id)
        if subscriptions is not None:
            subscriptions.discard(subscription)
            if not subscriptions:
                del self._subscribers[subscription.run_id]


async def listen_forever(
    name: str,
    listen_once: Callable[[Callable[[], None]], Awaitable[None]],
    on_connected: Callable[[], None],
    *,
    max_backoff: float = 5.0,
) -> None:
    """Run ``listen_once`` again whenever it fails, with a capped backoff, until cancelled.

    ``listen_once`` calls the function it is given once it listens; ``on_connected`` then
    runs (the notifiers wake every stream: notifications sent while the listener was
    down are lost, and the streams must read the store to catch up).
    """
    backoff = 0.1
    while True:

        def connected() -> None:
            nonlocal backoff
            backoff = 0.1
            on_connected()

        try:
            await listen_once(connected)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("%s listener lost its connection (%s); reconnecting", name, exc)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, max_backoff)
