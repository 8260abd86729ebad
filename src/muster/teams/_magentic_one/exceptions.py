"""Errors raised by the MagenticOne orchestrator.

Hierarchy::

    MusterError                          (muster.core.exceptions)
    └── AgentChatError                   (muster.base.exceptions)
        └── LedgerError                  (ValueError) the model never produced a usable progress ledger

``LedgerError`` subclasses ``ValueError`` because AutoGen raises a plain ``ValueError`` when
the ledger cannot be parsed, so ported ``except ValueError`` clauses keep working. A run
that fails this way ends with :class:`~muster.teams.exceptions.GroupChatRuntimeError`
naming ``LedgerError``.
"""

from __future__ import annotations

from muster.base.exceptions import AgentChatError

__all__ = ["LedgerError"]


class LedgerError(AgentChatError, ValueError):
    """The model's progress ledger was unusable on every attempt.

    Attributes:
        attempts: How many times the model was asked.
        last_output: The model's last answer, verbatim.
        reason: Why that answer was rejected.
    """

    def __init__(self, attempts: int, last_output: str, reason: str) -> None:
        self.attempts = attempts
        self.last_output = last_output
        self.reason = reason
        super().__init__(f"Failed to parse ledger information after {attempts} attempts: {reason}")
