"""Rows to resources, and the small values every store module makes (ids, clocks, digests)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ..models import ApiKey, EventRecord, MessageRecord, Run, RunError, SpecRecord, Thread

__all__ = [
    "canonical_digest",
    "new_id",
    "now",
    "plain",
    "to_api_key",
    "to_event",
    "to_message",
    "to_run",
    "to_spec",
    "to_thread",
]


def new_id() -> str:
    """A new id: uuid4 hex (32 characters)."""
    return uuid.uuid4().hex


def now() -> datetime:
    """The current time, timezone-aware UTC (taken in Python so both backends agree)."""
    return datetime.now(UTC)


def plain(value: Mapping[str, Any]) -> dict[str, Any]:
    """A plain ``dict`` of a mapping (the JSON serializer refuses other mapping types)."""
    return value if type(value) is dict else dict(value)


def canonical_digest(value: Any) -> str:
    """sha256 of the canonical JSON of ``value``: equal documents, equal digests."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_spec(row: Mapping[Any, Any]) -> SpecRecord:
    """A ``specs`` row as the API shows it."""
    return SpecRecord(
        name=row["name"], version=row["version"], component=row["component"], created_at=row["created_at"]
    )


def to_thread(row: Mapping[Any, Any]) -> Thread:
    """A ``threads`` row as the API shows it."""
    return Thread(
        id=row["id"],
        status=row["status"],
        metadata=row["metadata"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def to_run(row: Mapping[Any, Any]) -> Run:
    """A ``runs`` row as the API shows it."""
    error = row["error"]
    return Run(
        id=row["id"],
        thread_id=row["thread_id"],
        spec=row["spec"],
        spec_version=row["spec_version"],
        status=row["status"],
        strategy=row["strategy"],
        stop_reason=row["stop_reason"],
        error=RunError.model_validate(error) if error is not None else None,
        attempt=row["attempt"],
        worker=row["worker"],
        turns=row["turns"],
        metadata=row["metadata"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        updated_at=row["updated_at"],
    )


def to_message(row: Mapping[Any, Any]) -> MessageRecord:
    """A ``messages`` row as the API shows it."""
    return MessageRecord(seq=row["seq"], run_id=row["run_id"], message=row["message"])


def to_event(row: Mapping[Any, Any]) -> EventRecord:
    """An ``events`` row as the API shows it."""
    return EventRecord(seq=row["seq"], event=row["event"], data=row["data"])


def to_api_key(row: Mapping[Any, Any]) -> ApiKey:
    """An ``api_keys`` row as listed (no hash, no secret)."""
    return ApiKey(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )
