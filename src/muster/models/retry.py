"""Retry policy for provider clients (``retry_policy=`` on every provider client).

Public home of :class:`RetryPolicy`; the retry loop itself lives in ``muster.models._retry``.
"""

from ._retry import RetryPolicy

__all__ = ["RetryPolicy"]
