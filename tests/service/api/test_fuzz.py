"""Schemathesis over the served OpenAPI document: no 5xx, every response matches its schema.

The app runs on a real uvicorn server (SQLite) and schemathesis generates requests for every
operation from the document itself, valid and invalid, with the test's API key. The two
streaming operations are left out (a valid request streams until its run ends); their
refusals are covered by test_errors.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import schemathesis
from api_kit import API_KEY, make_settings, running_api
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

_STREAMING = ("/runs/stream", "/events")


@dataclass(frozen=True)
class _Sqlite:
    url: str
    backend: str = "sqlite"
    schema: str | None = None


def _fuzz(url: str) -> tuple[list[str], set[str], set[str]]:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    failures: list[str] = []
    operations: set[str] = set()
    called: set[str] = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        if operation.path.endswith(_STREAMING):
            continue
        operations.add(label)

        try:
            _checker(operation, url, lambda label=label: called.add(label))()
        except Exception as exc:  # every operation is fuzzed; all failures are reported together
            failures.append(f"{label}: {str(exc)[:600]}")
    return failures, operations, called


def _checker(operation: Any, url: str, on_call: Any) -> Any:
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        on_call()
        case.call_and_validate(
            base_url=url,
            headers={"Authorization": f"Bearer {API_KEY}"},
            checks=[not_a_server_error, response_schema_conformance],
        )

    return check


async def test_no_generated_request_gets_a_5xx_or_a_response_off_its_schema(tmp_path: Path) -> None:
    database = _Sqlite(f"sqlite:///{tmp_path / 'muster.db'}")
    async with running_api(make_settings(database), database) as api:
        failures, operations, called = await asyncio.to_thread(_fuzz, api.url)
    assert not failures, "\n".join(failures)
    assert len(operations) >= 10 and called == operations
