"""Fixtures for tools that talk to servers: the loopback HTTP server of tests/models."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "models"))
sys.path.insert(0, str(Path(__file__).parent))

from fake_llm_server import FakeLLMServer  # noqa: E402


@pytest.fixture(scope="session")
def _http_server_session() -> Iterator[FakeLLMServer]:
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def http_server(_http_server_session: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """A real HTTP server on 127.0.0.1 answering scripted replies and recording requests."""
    _http_server_session.reset()
    yield _http_server_session
    _http_server_session.reset()
