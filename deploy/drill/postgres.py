"""A throwaway PostgreSQL cluster: its own folder, its own port, gone afterwards.

The installed server's ``initdb`` and ``pg_ctl`` (``/usr/lib/postgresql/*/bin``), run as
the package's ``postgres`` user when run as root (the server refuses root). The drill and
``tests/service/test_db_outage.py`` (which stops and starts it) both use it. ``fsync=off``:
the data is worthless afterwards. The server on 5432 is never touched.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
from pathlib import Path

from .processes import free_port

__all__ = ["ThrowawayPostgres"]


class ThrowawayPostgres:
    """A PostgreSQL cluster in the drill's folder, on a port of its own."""

    def __init__(self, root: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not found:
            raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql")
        self.bin = Path(found[-1])
        self.data = root / "pgdata"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.started = False

    def _run(self, *cmd: str) -> None:
        # initdb and the server refuse to run as root: the package's postgres user runs them.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[:1])} failed: {done.stdout}{done.stderr}")

    def init(self) -> None:
        """Create the cluster (``initdb``) in ``<root>/pgdata``."""
        self.data.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, "postgres")
            shutil.chown(self.data, "postgres")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )

    def start(self) -> None:
        """Create the cluster if it is not there yet, then start its server (again, after a stop)."""
        if not (self.data / "PG_VERSION").exists():
            self.init()
        options = (
            f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        self.started = True
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.data / "log"),
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (``pg_ctl -m mode``; killed if pg_ctl cannot); the cluster stays."""
        if not self.started:
            return
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        except (RuntimeError, subprocess.TimeoutExpired):
            # pg_ctl could not stop it: kill the postmaster named in its pid file.
            with contextlib.suppress(OSError, ValueError, IndexError):
                pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
                os.kill(pid, signal.SIGKILL)
        self.started = False
