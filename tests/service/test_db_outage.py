"""The database stopped and started again: /ready flips, a request during the outage is refused
with a typed 503, and no run accepted before the outage is lost.

A throwaway PostgreSQL instance of its own (the installed server's ``initdb`` and ``pg_ctl``,
in a temporary folder, on a free port) is really stopped and started: the shared server on
5432 is never touched.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent / "api"))

from api_kit import make_settings, running_api  # noqa: E402
from service_kit import replay_agent, wait_until  # noqa: E402

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Database:
    """Where the test's store lives (the shape the API kit expects)."""

    backend: str
    url: str
    schema: str | None = None


_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*cmd: str) -> subprocess.CompletedProcess[str]:
    # initdb and the server refuse to run as root; the Debian package's postgres user runs them.
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *cmd], capture_output=True, text=True, check=True, timeout=120)


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, on its own port, that a test may stop."""

    def __init__(self, root: Path) -> None:
        self.bin = Path(_BIN[-1])
        self.data = root / "pgdata"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self.data.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.data.parent, "postgres")
            shutil.chown(self.data, "postgres")
        _as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        _as_postgres(
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

    def stop(self) -> None:
        _as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def throwaway_pg() -> Iterator[ThrowawayPostgres]:
    if not _BIN or (os.geteuid() == 0 and shutil.which("runuser") is None):
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) installed")
    # Directly under /tmp, not pytest's (root-only) temporary tree: the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="muster-pg-"))
    pg = ThrowawayPostgres(root)
    try:
        pg.init()
        pg.start()
        yield pg
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            pg.stop()
        shutil.rmtree(root, ignore_errors=True)


async def test_a_database_outage_flips_ready_refuses_new_runs_and_loses_no_accepted_run(
    throwaway_pg: ThrowawayPostgres,
) -> None:
    database = Database("postgresql", throwaway_pg.url, "outage")
    settings = make_settings(database)
    async with running_api(settings, database) as api:
        await api.put_spec("echo", replay_agent("echo", ["The answer is 42."]))
        assert (await api.client.get("/ready")).status_code == 200
        accepted = [await api.start(await api.thread(), "echo", f"question {i}") for i in range(3)]

        throwaway_pg.stop()
        await wait_until(
            lambda: _status(api, "/ready", 503),
            timeout=30,
            what="/ready to answer 503 while the database is down",
        )
        refused = await api.client.post("/v1/threads", json={})
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "traceback" not in refused.text.lower()

        throwaway_pg.start()
        await wait_until(lambda: _status(api, "/ready", 200), timeout=60, what="/ready to recover")
        for run in accepted:
            finished = await api.wait_status(run["id"], "succeeded", "failed", "cancelled", timeout=25)
            assert finished["status"] == "succeeded"
            messages = await api.messages(run["thread_id"])
            assert [m["source"] for m in messages][0] == "user" and len(messages) >= 2


async def _status(api: object, path: str, expected: int) -> bool | None:
    try:
        response = await api.client.get(path)  # type: ignore[attr-defined]
    except Exception:  # the server itself stays up; a transport error just means "not yet"
        return None
    return True if response.status_code == expected else None
