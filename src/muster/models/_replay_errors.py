"""The replay client's error, apart from the client: a run that does not exhaust its script never loads it.

Importable from :mod:`muster.models.replay` as before.
"""

from __future__ import annotations

from muster.core.exceptions import MusterError

__all__ = ["ReplayExhaustedError"]


class ReplayExhaustedError(MusterError, ValueError):
    """Every scripted reply has been used and another call was made.

    A ``ValueError`` because AutoGen's replay client raises one, so ported
    ``pytest.raises(ValueError)`` checks keep working.

    Attributes:
        provided: How many replies the client was given.
    """

    def __init__(self, provided: int) -> None:
        self.provided = provided
        super().__init__(
            f"No more mock responses available: all {provided} scripted replies were used "
            "(call reset() to replay them again)"
        )
