"""The service's store: the :class:`Store` protocol and its SQL implementation.

``SqlStore`` (SQLAlchemy, SQLite or PostgreSQL) and the key helpers load on first access,
so importing the protocol does not import SQLAlchemy.
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

from .base import STOP_CANCEL, STOP_INTERRUPT, STOP_ROLLBACK, Checkpoint, Store, TurnWrite

if TYPE_CHECKING:
    from .keys import ensure_api_keys
    from .migrate import upgrade_database
    from .sql import SqlStore

__all__ = [
    "STOP_CANCEL",
    "STOP_INTERRUPT",
    "STOP_ROLLBACK",
    "Checkpoint",
    "SqlStore",
    "Store",
    "TurnWrite",
    "ensure_api_keys",
    "upgrade_database",
]

__getattr__, __dir__ = lazy_exports(
    __name__, {"SqlStore": ".sql", "ensure_api_keys": ".keys", "upgrade_database": ".migrate"}
)
