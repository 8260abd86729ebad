"""Operational helpers for running many agents in one process.

- :class:`ModelClientPool`: a bounded pool of model clients shared by agents;
- :class:`BatchProcessor`: groups messages per agent and runs the groups concurrently;
- :class:`MemoryMonitor`: memory levels, callbacks and a backpressure flag;
- :class:`PooledAgent`: an ``AssistantAgent`` borrowing a pooled client per turn
  (loaded on first access, so ``import muster.ops`` does not import the agents).

See ``docs/performance.md`` for measurements and for what was tried and rejected
(pooling ``MessageContext`` objects).
"""

from typing import TYPE_CHECKING, Any

from ._batch import BatchProcessor, RunnableAgent
from ._memory_monitor import MemoryCallback, MemoryLevel, MemoryMonitor, MemorySample, psutil_probe
from ._pool import ClientFactory, ModelClientPool
from .exceptions import (
    BatchAbortedError,
    BatchProcessorClosedError,
    ForeignClientError,
    OpsError,
    PoolClosedError,
)

if TYPE_CHECKING:
    from ._pooled_agent import PooledAgent

__all__ = [
    "BatchAbortedError",
    "BatchProcessor",
    "BatchProcessorClosedError",
    "ClientFactory",
    "ForeignClientError",
    "MemoryCallback",
    "MemoryLevel",
    "MemoryMonitor",
    "MemorySample",
    "ModelClientPool",
    "OpsError",
    "PoolClosedError",
    "PooledAgent",
    "RunnableAgent",
    "psutil_probe",
]


def __getattr__(name: str) -> Any:
    if name == "PooledAgent":
        from ._pooled_agent import PooledAgent

        return PooledAgent
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
