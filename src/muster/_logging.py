"""AutoGen's logger names keep working: their loggers sit in the chain of muster's own.

A logging setup written for AutoGen configures ``logging.getLogger("autogen_core")``,
``"autogen_agentchat"`` and their ``.events`` / ``.trace`` children. muster logs under
its own names (``muster``, ``muster.events``, ``muster.core``, ``muster.core.events``,
``muster.core.trace``), so without help such a setup would see nothing.

Each AutoGen logger is made the parent of its muster counterpart, and the muster logger
that used to be that parent becomes the AutoGen logger's parent::

    muster.core.events -> autogen_core.events -> muster.core -> autogen_core -> muster
        -> autogen_agentchat -> root

Python's logging reads levels and handlers along the parent chain, so a level or handler
set on an AutoGen name applies to the matching muster records, a level or handler set on
a muster name still applies as before, and each record reaches every handler once. Every
logger in the chain is created here before any parent is changed, so the logging module
never re-parents them later (it only does that for placeholders).

Records keep their muster names (``record.name`` is ``"muster.core.events"``).
"""

from __future__ import annotations

import logging

__all__ = ["AUTOGEN_LOGGER_NAMES", "bridge_autogen_logger_names"]

AUTOGEN_LOGGER_NAMES: dict[str, str] = {
    "muster": "autogen_agentchat",
    "muster.events": "autogen_agentchat.events",
    "muster.core": "autogen_core",
    "muster.core.events": "autogen_core.events",
    "muster.core.trace": "autogen_core.trace",
}
"""Each muster logger and the AutoGen logger whose configuration it follows."""


def bridge_autogen_logger_names() -> None:
    """Put each AutoGen-named logger between its muster counterpart and that one's parent.

    Idempotent: a second call finds the chain already in place and changes nothing.
    Loggers a program configured before importing muster keep their configuration.
    """
    pairs = [
        (logging.getLogger(ours), logging.getLogger(theirs)) for ours, theirs in AUTOGEN_LOGGER_NAMES.items()
    ]
    # Parents are read only now that every logger exists as a real Logger.
    for ours, theirs in pairs:
        if ours.parent is theirs:
            continue
        theirs.parent = ours.parent
        ours.parent = theirs
