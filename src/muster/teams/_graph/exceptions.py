"""Errors raised when a GraphFlow graph is malformed.

Hierarchy::

    MusterError                          (muster.core.exceptions)
    └── AgentChatError                   (muster.base.exceptions)
        └── GraphValidationError         (ValueError) the graph cannot be run as given

``GraphValidationError`` subclasses ``ValueError`` because AutoGen raises a plain
``ValueError`` for the same problems, so ported ``except ValueError`` clauses keep working.
"""

from __future__ import annotations

from muster.base.exceptions import AgentChatError

__all__ = ["GraphValidationError"]


class GraphValidationError(AgentChatError, ValueError):
    """The graph is malformed: no nodes, no entry or exit, an unknown node, an endless cycle...

    Attributes:
        problem: What is wrong, in one sentence (also the exception message).
        nodes: The node names involved, in the order they matter (a cycle's path, say).
    """

    def __init__(self, problem: str, nodes: tuple[str, ...] = ()) -> None:
        self.problem = problem
        self.nodes = nodes
        super().__init__(problem)
