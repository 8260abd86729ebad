"""AssistantAgentConfig: the declarative spec of an AssistantAgent.

Apart from the agent, and loaded by the first dump or load of a spec (the agent's
``component_config_schema`` is a lazy attribute): most processes build agents in code and
never define this model, about 0.5 ms of start-up.
"""

from pydantic import BaseModel, ConfigDict, Field

from muster.base import Handoff
from muster.core import ComponentModel

__all__ = ["AssistantAgentConfig"]


class AssistantAgentConfig(BaseModel):
    """The declarative spec of an AssistantAgent (same fields as AutoGen's)."""

    # Schema built on first use, not at import: see docs/performance.md, "Start-up".
    model_config = ConfigDict(defer_build=True)

    name: str
    model_client: ComponentModel
    tools: list[ComponentModel] | None = None
    """Only read when loading; dumps put the tools inside ``workbench``."""
    workbench: list[ComponentModel] | None = None
    handoffs: list[Handoff | str] | None = None
    model_context: ComponentModel | None = None
    memory: list[ComponentModel] | None = None
    description: str
    system_message: str | None = None
    model_client_stream: bool = False
    reflect_on_tool_use: bool
    tool_call_summary_format: str
    max_tool_iterations: int = Field(default=1, ge=1)
    metadata: dict[str, str] | None = None
    structured_message_factory: ComponentModel | None = None
