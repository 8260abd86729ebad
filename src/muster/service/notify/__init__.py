"""Wake-ups for run event streams: in-process, Redis pub/sub, or PostgreSQL LISTEN/NOTIFY."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .base import Notifier, Subscription
from .local import LocalNotifier

if TYPE_CHECKING:
    from ..settings import ServiceSettings

__all__ = ["LocalNotifier", "Notifier", "Subscription", "make_notifier", "pg_conninfo"]


def pg_conninfo(url: str) -> str:
    """A libpq connection string from a database URL (a SQLAlchemy driver suffix dropped)."""
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", url)


def make_notifier(settings: ServiceSettings) -> Notifier:
    """Redis when ``redis.url`` is set; else LISTEN/NOTIFY on PostgreSQL; else in-process."""
    namespace = settings.database.schema_name or "public"
    if settings.redis.url is not None:
        from .redis import RedisNotifier

        return RedisNotifier(settings.redis.url.get_secret_value(), f"muster:{namespace}:events")
    if settings.database.is_postgres:
        from .postgres import PostgresNotifier

        return PostgresNotifier(
            pg_conninfo(settings.database.url.get_secret_value()), f"muster_{namespace}_events"
        )
    return LocalNotifier()
