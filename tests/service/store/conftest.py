"""A spec and a thread in the store under test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from muster.service.models import SpecRecord, Thread
from muster.service.store import SqlStore

sys.path.insert(0, str(Path(__file__).parent))
from store_helpers import COMPONENT  # noqa: E402


@pytest.fixture
async def spec(store: SqlStore) -> SpecRecord:
    return await store.put_spec("team", COMPONENT)


@pytest.fixture
async def thread(store: SqlStore) -> Thread:
    return await store.create_thread({"user": "ada"})
