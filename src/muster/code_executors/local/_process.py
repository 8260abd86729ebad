"""Running one program as a child process with a deadline and a cancellation token.

The program's whole process group is killed on timeout or cancellation: generated shell
scripts start children of their own (``sleep``, ``python -c``...) that would otherwise
outlive their shell, keep the output pipe open and block the read forever. stdout and
stderr share one pipe so the output reads in the order it was printed, as on a terminal.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from muster.core import CancellationToken

__all__ = ["ProcessOutcome", "run_process"]

_POSIX = os.name == "posix"
_READ_SIZE = 64 * 1024
_DRAIN_GRACE_SECONDS = 2.0
"""How long to keep reading after a kill: what the program printed before it died."""


@dataclass(frozen=True, slots=True)
class ProcessOutcome:
    """How a child process ended and everything it printed."""

    returncode: int | None
    """The process's exit status (negative: killed by that signal); None if we killed it."""
    output: str
    """stdout and stderr interleaved, decoded as UTF-8 (undecodable bytes replaced)."""
    timed_out: bool = False
    """The deadline passed and the process group was killed."""
    cancelled: bool = False
    """The cancellation token fired and the process group was killed."""


def _kill_group(process: asyncio.subprocess.Process) -> None:
    try:
        if _POSIX:
            # start_new_session made the child a group leader: its pid is the group id.
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    time_limit: float,
    cancellation_token: CancellationToken,
) -> ProcessOutcome:
    """Run ``argv`` (no shell) in ``cwd`` and wait for it, at most ``time_limit`` seconds.

    If the awaiting task itself is cancelled, the process group is killed before the
    ``CancelledError`` propagates, so no child outlives its caller.

    Raises:
        OSError: the program could not be started (``FileNotFoundError`` if it does not exist).
    """
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=_POSIX,
    )
    chunks: list[bytes] = []

    async def read_all_then_wait() -> int:
        stream = process.stdout
        assert stream is not None
        while chunk := await stream.read(_READ_SIZE):
            chunks.append(chunk)
        return await process.wait()

    finished = asyncio.ensure_future(read_all_then_wait())
    cancel_signal = cancellation_token.link_future(asyncio.get_running_loop().create_future())
    try:
        done, _ = await asyncio.wait(
            {finished, cancel_signal}, timeout=time_limit, return_when=asyncio.FIRST_COMPLETED
        )
        if finished in done:
            return ProcessOutcome(finished.result(), b"".join(chunks).decode("utf-8", "replace"))
        cancelled = cancel_signal in done
        _kill_group(process)
        # Collect what was printed before the kill; an orphan that left the group may still
        # hold the pipe, so the wait is bounded.
        await asyncio.wait({finished}, timeout=_DRAIN_GRACE_SECONDS)
        output = b"".join(chunks).decode("utf-8", "replace")
        return ProcessOutcome(None, output, timed_out=not cancelled, cancelled=cancelled)
    finally:
        if process.returncode is None:
            _kill_group(process)
            await process.wait()
        if not finished.done():
            finished.cancel()
            # The pipe is still open (held by an escaped orphan); close our end so the
            # transport does not leak until garbage collection.
            transport = getattr(process, "_transport", None)
            if transport is not None:
                transport.close()
        if not cancel_signal.done():
            cancel_signal.cancel()
