"""Does pooling ``MessageContext`` objects beat building a fresh one per delivery?

The seed guide proposes a ``MessageContextPool`` (a locked free list with ``reset()``).
This script times, per delivery:

- ``plain``: construct a ``muster.core`` ``MessageContext`` (a slotted dataclass);
- ``pool_locked``: the seed's design, get under a ``threading.Lock``, fill, reset, return;
- ``pool_unlocked``: the same without the lock (the best a pool could do on one loop).

Every variant builds a new ``CancellationToken``: tokens are one-shot, so a pooled
context cannot reuse one, and the runtime needs a fresh token per delivery anyway.

Run: ``.venv/bin/python benchmarks/bench_message_context_pool.py`` (``--quick`` for a
smoke run). The figures and the decision are recorded in ``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import threading
import timeit
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:
    from muster.core import AgentId, CancellationToken, TopicId
    from muster.core._message_context import MessageContext
except ImportError:  # the core runtime is not there yet: a stand-in of the same shape
    from muster.core import AgentId, CancellationToken, TopicId

    @dataclass(slots=True)
    class MessageContext:  # type: ignore[no-redef]
        sender: AgentId | None
        topic_id: TopicId | None
        is_rpc: bool
        cancellation_token: CancellationToken
        message_id: str


SENDER = AgentId("sender", "default")
TOPIC = TopicId("events", "default")


class SeedPool:
    """The seed's pool: a free list behind a lock, contexts reset on return."""

    def __init__(self, max_size: int = 100, locked: bool = True) -> None:
        self.max_size = max_size
        self.pool: list[Any] = []
        self.lock: Any = threading.Lock() if locked else _NoLock()

    def get_context(self) -> Any:
        with self.lock:
            if self.pool:
                return self.pool.pop()
        return MessageContext(None, None, False, _PLACEHOLDER_TOKEN, "")

    def return_context(self, context: Any) -> None:
        context.sender = None
        context.topic_id = None
        context.is_rpc = False
        context.cancellation_token = _PLACEHOLDER_TOKEN
        context.message_id = ""
        with self.lock:
            if len(self.pool) < self.max_size:
                self.pool.append(context)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


_PLACEHOLDER_TOKEN = CancellationToken()


def deliver_plain() -> None:
    ctx = MessageContext(SENDER, TOPIC, False, CancellationToken(), "m-1")
    _handler(ctx)


def make_pooled(pool: SeedPool) -> Callable[[], None]:
    def deliver_pooled() -> None:
        ctx = pool.get_context()
        ctx.sender = SENDER
        ctx.topic_id = TOPIC
        ctx.is_rpc = False
        ctx.cancellation_token = CancellationToken()
        ctx.message_id = "m-1"
        _handler(ctx)
        pool.return_context(ctx)

    return deliver_pooled


def _handler(ctx: Any) -> None:
    # Touch the fields the way a handler would, so neither variant is optimised away.
    if ctx.sender is None or ctx.message_id == "":
        raise AssertionError("context not filled")


def time_ns_per_op(fn: Callable[[], None], number: int, repeat: int) -> tuple[float, float]:
    """Median and best ns/op over ``repeat`` runs of ``number`` calls, GC enabled as in production."""
    timer = timeit.Timer(fn)
    runs = [t / number * 1e9 for t in timer.repeat(repeat=repeat, number=number)]
    return statistics.median(runs), min(runs)


def peak_alloc_kib(fn: Callable[[], None], number: int) -> float:
    """Peak traced memory while making ``number`` deliveries (contexts are dropped each time)."""
    gc.collect()
    tracemalloc.start()
    for _ in range(number):
        fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024


def main(argv: list[str] | None = None) -> dict[str, tuple[float, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few iterations, for a smoke run")
    args = parser.parse_args(argv)
    number, repeat = (20_000, 3) if args.quick else (200_000, 7)

    variants: dict[str, Callable[[], None]] = {
        "plain": deliver_plain,
        "pool_locked": make_pooled(SeedPool(locked=True)),
        "pool_unlocked": make_pooled(SeedPool(locked=False)),
    }
    for fn in variants.values():  # warm up
        for _ in range(1000):
            fn()

    print(f"python {sys.version.split()[0]}, MessageContext from {MessageContext.__module__}")
    print(f"{number} deliveries x {repeat} runs\n")
    print(f"{'variant':<15}{'median ns/op':>14}{'best ns/op':>12}{'peak KiB':>10}")
    results: dict[str, tuple[float, float]] = {}
    for name, fn in variants.items():
        median, best = time_ns_per_op(fn, number, repeat)
        peak = peak_alloc_kib(fn, 10_000)
        results[name] = (median, best)
        print(f"{name:<15}{median:>14.1f}{best:>12.1f}{peak:>10.1f}")
    plain = results["plain"][0]
    for name in ("pool_locked", "pool_unlocked"):
        print(f"{name} / plain = {results[name][0] / plain:.2f}x (above 1.0: pooling is slower)")
    return results


if __name__ == "__main__":
    main()
