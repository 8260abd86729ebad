"""Operational helpers for running many agents in one process.

- :class:`ModelClientPool`: a bounded pool of model clients shared by agents;
- :class:`BatchProcessor`: groups messages per agent and runs the groups concurrently;
- :class:`MemoryMonitor`: memory levels, callbacks and a backpressure flag.

See ``docs/performance.md`` for measurements and for what was tried and rejected
(pooling ``MessageContext`` objects).
"""

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
    "RunnableAgent",
    "psutil_probe",
]
