"""Handoffs: how an agent passes the conversation to another agent (Swarm)."""

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, model_validator

if TYPE_CHECKING:
    from muster.tools import BaseTool

__all__ = ["Handoff"]


class Handoff(BaseModel):
    """A handoff target, offered to the model as a tool named ``transfer_to_<target>``."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    target: str
    """The agent to hand off to."""
    description: str = ""
    """Tool description shown to the model; defaults to ``Handoff to <target>.``."""
    name: str = ""
    """Tool name; defaults to ``transfer_to_<target>``."""
    message: str = ""
    """Text of the HandoffMessage sent to the target."""

    @model_validator(mode="after")
    def _fill_defaults(self) -> "Handoff":
        if not self.name:
            self.name = f"transfer_to_{self.target}".lower()
        if not self.name.isidentifier():
            raise ValueError(f"Handoff name {self.name!r} must be a valid Python identifier")
        if not self.description:
            self.description = f"Handoff to {self.target}."
        if not self.message:
            self.message = f"Transferred to {self.target}, adopting the role of {self.target} immediately."
        return self

    @property
    def handoff_tool(self) -> "BaseTool[Any, Any]":
        """A no-argument tool whose result is :attr:`message`."""
        from muster.tools import FunctionTool

        message = self.message

        def _handoff() -> str:
            return message

        return FunctionTool(_handoff, name=self.name, description=self.description, strict=True)
