"""A worker's claims on PostgreSQL, made together: one statement for those of one loop tick.

PgQueuer hands a worker its jobs in batches (up to ten at a time here), and each job's
runner starts by claiming its run: ten statements, each a round trip that wakes a
PostgreSQL backend, in the same tick of the event loop. :class:`ClaimBatcher` collects
the claims made in one tick and sends them as one statement (``_pgpaths.CLAIMS_START``:
the same update and start read as ``CLAIM_START``, for a list of runs, locking them in id
order so that two such statements never wait on each other). Each caller gets its own
run's row, or ``None`` when its run was not claimable, exactly as it would alone.

Claims are grouped by worker and by whether they may take over a stale run; a group's
staleness cutoff is the earliest asked for (the strictest). A run asked for twice in one
tick goes to the next tick's statement the second time, where it sees the first claim.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from . import _pgpaths as P

__all__ = ["ClaimBatcher"]

_Key = tuple[str, bool]
_Claim = tuple[str, datetime | None, "asyncio.Future[dict[str, Any] | None]"]


class ClaimBatcher:
    """Claims of one tick, one statement per group (see the module docstring).

    Args:
        driver: The store's hot-path connection (``SqlDatabase._driver``): an async
            context manager yielding a psycopg connection in autocommit, its errors
            translated to the store's.
        clock: The time a claim is made at (``at``).
    """

    def __init__(
        self,
        driver: Callable[[], AbstractAsyncContextManager[Any]],
        clock: Callable[[], datetime],
    ) -> None:
        self._driver = driver
        self._clock = clock
        self._waiting: dict[_Key, list[_Claim]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def claim(self, run_id: str, worker: str, stale_before: datetime | None) -> dict[str, Any] | None:
        """The claimed run's row with its start (``CLAIM_START``'s columns), or ``None``."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any] | None] = loop.create_future()
        key = (worker, stale_before is not None)
        waiting = self._waiting.setdefault(key, [])
        waiting.append((run_id, stale_before, future))
        if len(waiting) == 1:
            loop.call_soon(self._send, key)
        return await future

    def _send(self, key: _Key) -> None:
        claims = self._waiting.pop(key, [])
        batch: list[_Claim] = []
        seen: set[str] = set()
        for claim in claims:
            if claim[2].done():  # its caller was cancelled
                continue
            if claim[0] in seen:  # asked twice: the second sees the first's outcome
                self._waiting.setdefault(key, []).append(claim)
                continue
            seen.add(claim[0])
            batch.append(claim)
        if key in self._waiting:
            asyncio.get_running_loop().call_soon(self._send, key)
        if batch:
            task = asyncio.create_task(self._claim_all(key[0], batch), name="muster claims")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _claim_all(self, worker: str, batch: list[_Claim]) -> None:
        cutoffs = [stale for _, stale, _ in batch if stale is not None]
        params = {
            "runs": [run_id for run_id, _, _ in batch],
            "worker": worker,
            "at": self._clock(),
            "stale": min(cutoffs) if cutoffs else None,
        }
        try:
            async with self._driver() as pg:
                rows = await P.fetch_all(pg, P.CLAIMS_START, params)
        except Exception as exc:
            for _, _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # cancelled (the store closing): so are the claims waiting on it
            for _, _, future in batch:
                future.cancel()
            raise
        claimed = {row["id"]: row for row in rows}
        for run_id, _, future in batch:
            if not future.done():
                future.set_result(claimed.get(run_id))

    async def close(self) -> None:
        """Wait for the statements in flight (the store closes its connections next)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
