"""The API end to end: the app on a real uvicorn server on loopback, on SQLite and on PostgreSQL.

The ``database`` fixture (``tests/service/conftest.py``) runs every test twice: on a
SQLite file (runs execute in the serving process) and on a PostgreSQL schema of its own
(the API only enqueues; a procrastinate worker, started here in the test's process,
executes). Models are replay clients or the loopback model server (``model_server.py``).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

from api_kit import Api, make_settings, running_api  # noqa: E402
from model_server import ModelServer  # noqa: E402


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    """The loopback model (deterministic answers, request counts, gates)."""
    with ModelServer() as server:
        yield server


@pytest.fixture
async def api(database: Any) -> AsyncIterator[Api]:
    """The API on this test's backend, default settings."""
    async with running_api(make_settings(database), database) as served:
        yield served
