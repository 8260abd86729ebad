"""How runs get executed: the ``Executor`` interface, the ``RunRunner``, and two executors.

See ``base.py`` for the interface, ``runner.py`` for one run start to end, ``local.py``
(SQLite: in the serving process) and ``jobs.py``/``worker.py`` (PostgreSQL: PgQueuer
jobs run by ``muster worker``).
"""

from .base import Executor, worker_name
from .jobs import JobExecutor
from .local import LocalExecutor
from .runner import RunRunner

__all__ = ["Executor", "JobExecutor", "LocalExecutor", "RunRunner", "worker_name"]
