"""muster: AutoGen-style multi-agent LLM applications, built to run in production.

The top-level package stays tiny on purpose: ``import muster`` must not pull in
pydantic models, providers or the runtime. Import what you need from the
sub-packages (``muster.agents``, ``muster.teams``, ``muster.core``...).
"""

# A literal, not importlib.metadata: reading package metadata costs tens of milliseconds
# at import time. The build reads it from here (pyproject: [tool.hatch.version]).
__version__ = "0.1.0"

EVENT_LOGGER_NAME = "muster.events"
"""Logger that receives structured agent and team events (AutoGen: ``autogen_agentchat.events``)."""

TRACE_LOGGER_NAME = "muster"
"""Logger for human-readable debug traces (AutoGen: ``autogen_agentchat``)."""

__all__ = ["EVENT_LOGGER_NAME", "TRACE_LOGGER_NAME", "__version__"]

# Logging setups written for AutoGen's logger names ("autogen_core", "autogen_agentchat",
# their .events/.trace children) see muster's records too; see muster/_logging.py.
from muster._logging import bridge_autogen_logger_names  # noqa: E402

bridge_autogen_logger_names()
