"""The drill's child processes: started with their output in a log file, all killed at the end.

Every process the drill starts is a :class:`Child` registered with one :class:`Children`,
whose :meth:`Children.close` (called in the drill's ``finally``, so on a failed check, a
timeout or Ctrl-C as well) kills each that is still alive by its pid, children first in
reverse start order. Each child also gets ``PR_SET_PDEATHSIG`` (Linux): if the drill
itself is killed with SIGKILL, the kernel kills its direct children, so even then nothing
is left serving. A child runs in a session of its own, so a Ctrl-C in the terminal reaches
the drill only, which then stops the children in order.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["Child", "Children", "free_port", "wait_for"]

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. The drill starts children from its main
    # thread only: the signal fires when the thread that forked exits.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    """A TCP port free on loopback right now, below the kernel's ephemeral range.

    A port the kernel hands out for ``bind(0)`` comes from the ephemeral range, which is
    also where every outgoing connection's local port comes from: between this call and
    the server binding it, a client connecting anywhere (the drill's processes open many)
    could take it ("Address already in use", seen in CI). Ports below the range are only
    ever taken by an explicit bind.
    """
    low = _ephemeral_low()
    for _ in range(200):
        port = random.randint(20000, low - 1)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:  # a crowded machine: fall back to the kernel's choice
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return max(low, 20001)


def wait_for(check: Callable[[], bool], *, timeout: float, what: str, child: Child | None = None) -> None:
    """Poll ``check`` (a readiness probe of a process we started) until true, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while not check():
        if child is not None and child.popen.poll() is not None:
            raise RuntimeError(
                f"{child.name} exited with {child.popen.returncode} before {what}:\n{child.tail()}"
            )
        if time.monotonic() > deadline:
            tail = f":\n{child.tail()}" if child is not None else ""
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}{tail}")
        time.sleep(0.1)


class Child:
    """One process the drill started (its output goes to ``log``)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stdin_pipe: bool = False,
    ) -> None:
        self.name = name
        self.argv = argv
        self.log = log
        self._log_file = log.open("ab")
        self.started_at = time.monotonic()
        self.popen = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE if stdin_pipe else self._log_file,
            stderr=self._log_file,
            stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean anything up (the drill's crash)."""
        if self.alive:
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(30)

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; closes the child's pipes and log."""
        if self.alive and grace > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace)
        self.kill()
        if self.popen.stdin is not None:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()
        if self.popen.stdout is not None:
            with contextlib.suppress(OSError):
                self.popen.stdout.close()
        self._log_file.close()

    def tail(self, lines: int = 30) -> str:
        """The end of the child's log (for error messages)."""
        with contextlib.suppress(OSError):
            self._log_file.flush()
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Children:
    """Every process the drill started; :meth:`close` stops those still alive."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[Child] = []

    def start(self, name: str, argv: list[str], **kwargs: object) -> Child:
        """Start ``argv`` as ``name`` (log file ``<logs>/<name>.log``, appended to on a restart)."""
        child = Child(name, argv, log=self.logs / f"{name}.log", **kwargs)  # type: ignore[arg-type]
        self.started.append(child)
        return child

    def close(self, grace: float = 5.0) -> None:
        """Stop every child still alive: SIGTERM to all, SIGKILL to those still up after ``grace`` s."""
        alive = [c for c in reversed(self.started) if c.alive]
        for child in alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in alive:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.popen.wait(max(0.0, deadline - time.monotonic()))
        for child in reversed(self.started):
            with contextlib.suppress(Exception):
                child.stop(grace=0)

    def running(self) -> list[Child]:
        """The children still alive."""
        return [c for c in self.started if c.alive]
