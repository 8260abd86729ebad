"""Notifiers wake the subscribers of a run, in-process and across processes (Redis, PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import pytest

from muster.service.notify import LocalNotifier, Notifier
from muster.service.notify.base import MAX_NOTICES
from muster.service.notify.postgres import PostgresNotifier
from muster.service.notify.redis import RedisNotifier
from muster.service.store.base import events_from_notices

PG = "postgresql://127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["redis", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Notifier, Notifier]]:
    """Two notifiers on one channel, as two processes would have."""
    channel = f"muster_test_{uuid.uuid4().hex[:8]}"
    notifiers: list[Notifier]
    if request.param == "redis":
        notifiers = [RedisNotifier(REDIS, channel), RedisNotifier(REDIS, channel)]
    else:
        notifiers = [PostgresNotifier(PG, channel), PostgresNotifier(PG, channel)]
    for notifier in notifiers:
        await notifier.start()
    yield notifiers[0], notifiers[1]
    for notifier in notifiers:
        await notifier.close()


async def test_a_publish_wakes_subscribers_of_that_run_in_another_process(
    pair: tuple[Notifier, Notifier],
) -> None:
    publisher, listener = pair
    with listener.subscribe("run-1") as woken, listener.subscribe("run-2") as other:
        woken.clear()
        other.clear()
        await publisher.publish("run-1")
        assert await woken.wait(10)
        assert not await other.wait(0.2)


async def test_in_process_notifier_wakes_only_that_run() -> None:
    notifier = LocalNotifier()
    with notifier.subscribe("a") as a, notifier.subscribe("b") as b:
        a.clear()
        b.clear()
        await notifier.publish("a")
        assert await a.wait(1)
        assert not await b.wait(0.05)
    assert notifier._subscribers == {}  # leaving unsubscribes


async def test_a_runs_last_write_is_announced_as_its_end_across_processes(
    pair: tuple[Notifier, Notifier],
) -> None:
    publisher, listener = pair
    with listener.subscribe("run-1") as woken:
        woken.clear()
        await publisher.publish("run-1")
        assert await woken.wait(10)
        assert not woken.ended  # a turn: a waiter for the end does not read the store
        woken.clear()
        await publisher.publish("run-1", ended=True)
        assert await woken.wait(10)
        assert woken.ended
        woken.clear()
        assert not woken.ended


async def test_a_wake_up_of_every_stream_may_have_been_an_end() -> None:
    notifier = LocalNotifier()
    with notifier.subscribe("a") as a:
        a.clear()
        notifier.wake_all()  # a listener reconnected: what it missed is unknown
        assert await a.wait(1)
        assert a.ended
        a.clear()
        notifier.wake_payload("a end")
        assert a.ended
        a.clear()
        notifier.wake_payload("a")
        assert await a.wait(1) and not a.ended


@pytest.mark.parametrize("kind", ["redis", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def test_a_publish_only_notifier_reaches_listeners_without_listening_itself(kind: str) -> None:
    channel = f"muster_test_{uuid.uuid4().hex[:8]}"

    def make() -> Notifier:
        return RedisNotifier(REDIS, channel) if kind == "redis" else PostgresNotifier(PG, channel)

    publisher, listener = make(), make()
    await publisher.start(listen=False)  # as a worker starts its own
    await listener.start()
    try:
        with listener.subscribe("run-1") as woken, publisher.subscribe("run-1") as deaf:
            woken.clear()
            deaf.clear()
            await listener.publish("run-1")  # another process's write
            assert await woken.wait(10)
            assert not await deaf.wait(0.3)  # the publish-only notifier hears nothing
            woken.clear()
            await publisher.publish("run-1", ended=True)  # and its own writes still go out
            assert await woken.wait(10) and woken.ended
    finally:
        await publisher.close()
        await listener.close()


def test_a_subscription_keeps_what_each_wake_up_carried_in_order() -> None:
    notifier = LocalNotifier()
    with notifier.subscribe("a") as a:
        notifier.wake_payload('a turn {"events": []}')
        notifier.wake_payload("a")  # a write that carried nothing
        notifier.wake_payload('a end {"run": {}}')
        assert a.ended
        assert a.clear() == ['{"events": []}', "", '{"run": {}}']
        assert a.clear() == [] and not a.ended
        notifier.wake_all()  # wake-ups may have been lost: a gap
        assert a.clear() == [""]
        for i in range(MAX_NOTICES + 3):
            notifier.wake_payload(f"a turn {i}")
        kept = a.clear()
        assert len(kept) == 3 and kept[0] == str(MAX_NOTICES)  # a reader that far behind reads the store


def test_carried_events_count_only_without_a_gap() -> None:
    first = json.dumps({"events": [[1, "message", {"n": 1}], [2, "timing", {}]]})
    second = json.dumps({"events": [[3, "message", {"n": 3}]]})
    assert [e.seq for e in events_from_notices([first, second], 0) or []] == [1, 2, 3]
    assert [e.seq for e in events_from_notices([first, second], 2) or []] == [3]  # 1-2 read already
    assert events_from_notices([second], 0) is None  # 1-2 missing
    assert events_from_notices([first, "", second], 0) is None  # a write that carried nothing
    assert events_from_notices([first], 2) is None  # nothing new: read (the store may have more)
    assert events_from_notices(["not json"], 0) is None
