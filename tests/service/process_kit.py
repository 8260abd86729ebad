"""Real ``muster serve`` / ``muster worker`` processes for the crash tests.

Each process writes its output to a log file in the test's folder (shown when a test
fails); every process a test started is killed by its pid when the test ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["MusterProcess", "Processes"]


class MusterProcess:
    """One ``python -m muster ...`` process."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args = args
        self.log = log
        self._log_file = log.open("ab")
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "muster", *args],
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to clean anything up."""
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(30)

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, then wait for it to drain and exit; returns the exit code."""
        if self.popen.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
        return self.popen.wait(timeout)

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        self.kill()
        self._log_file.close()


class Processes:
    """The processes a test started (a context manager that kills what is left)."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder = folder
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.started: list[MusterProcess] = []

    def start(self, *args: str) -> MusterProcess:
        log = self.folder / f"{args[0]}-{len(self.started)}.log"
        process = MusterProcess(list(args), self.env, log)
        self.started.append(process)
        return process

    def serve(self, port: int, *extra: str) -> MusterProcess:
        """``muster serve`` on ``port``, once ``/ready`` answers."""
        process = self.start("serve", "--host", "127.0.0.1", "--port", str(port), *extra)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    return process
            except httpx.TransportError:
                pass
            if process.popen.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"muster serve did not become ready:\n{process.output()}")
            time.sleep(0.1)

    def logs(self) -> str:
        return "\n".join(f"--- {' '.join(p.args)} (pid {p.pid})\n{p.output()}" for p in self.started)

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.started:
            process.close()
