"""Execution tests: runners and executors against the real store, models on loopback."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))

from model_server import ModelServer  # noqa: E402


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    """The loopback model (deterministic answers, request counts, gates)."""
    with ModelServer() as server:
        yield server
