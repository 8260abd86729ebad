"""Team specs the service tests run, all on the loopback model (``model_server.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar

from model_server import openai_agent
from pydantic import BaseModel

from muster.conditions import MaxMessageTermination
from muster.core import Component, ComponentLoader
from muster.models.usage import current_usage_scope
from muster.teams import RoundRobinGroupChat
from muster.tools import BaseTool

__all__ = ["ChargeTool", "LookingTool", "charging_agent", "duo", "pipeline"]


def _agent(name: str, url: str) -> Any:
    return ComponentLoader.load_component(openai_agent(name, url))


def duo(url: str, max_turns: int = 2) -> dict[str, Any]:
    """Alice then bob, ``max_turns`` turns."""
    team = RoundRobinGroupChat(
        [_agent("alice", url), _agent("bob", url)],
        max_turns=max_turns,
        termination_condition=MaxMessageTermination(50),
    )
    return team.dump_component().model_dump()


def pipeline(url: str) -> dict[str, Any]:
    """Two model calls in one turn: a nested team (alice, bob) is one turn of the outer team.

    Outer turns: the nested team (alice then bob), carol, the nested team again. A crash
    while bob answers in the first turn loses that turn, but alice's answer in it was
    recorded: the redone turn must replay it, not ask the model again.
    """
    inner = RoundRobinGroupChat([_agent("alice", url), _agent("bob", url)], name="inner", max_turns=2)
    outer = RoundRobinGroupChat([inner, _agent("carol", url)], name="outer", max_turns=3)
    return outer.dump_component().model_dump()


class ChargeArgs(BaseModel):
    amount: int


class ChargeConfig(BaseModel):
    pass


class ChargeTool(BaseTool[ChargeArgs, str], Component[ChargeConfig]):
    """A side-effecting tool written as docs/service.md says: it keys its effect by
    ``run_id:call_id`` (the same on a redone turn), and records the keys it saw."""

    component_provider_override = "team_specs.ChargeTool"
    component_config_schema = ChargeConfig
    keys: ClassVar[list[str]] = []

    def __init__(self) -> None:
        super().__init__(ChargeArgs, str, "charge", "Charge the customer")

    async def run_json(
        self, args: Mapping[str, Any], cancellation_token: Any, call_id: str | None = None
    ) -> Any:
        key = f"{current_usage_scope().run_id}:{call_id}"
        ChargeTool.keys.append(key)
        return await super().run_json(args, cancellation_token, call_id)

    async def run(self, args: ChargeArgs, cancellation_token: Any) -> str:
        return f"charged {args.amount}"

    def _to_config(self) -> ChargeConfig:
        return ChargeConfig()

    @classmethod
    def _from_config(cls, config: ChargeConfig) -> ChargeTool:
        return cls()


class LookingTool(BaseTool[ChargeArgs, str], Component[ChargeConfig]):
    """A ``charge`` tool that, when it runs, calls ``look`` with the run's id (a test sets it:
    what the store holds at that moment) and keeps what it returned in ``seen``."""

    component_provider_override = "team_specs.LookingTool"
    component_config_schema = ChargeConfig
    look: ClassVar[Callable[[str], Awaitable[Any]] | None] = None
    seen: ClassVar[list[Any]] = []

    def __init__(self) -> None:
        super().__init__(ChargeArgs, str, "charge", "Charge the customer")

    async def run(self, args: ChargeArgs, cancellation_token: Any) -> str:
        run_id = current_usage_scope().run_id
        if LookingTool.look is not None and run_id is not None:
            LookingTool.seen.append(await LookingTool.look(run_id))
        return f"charged {args.amount}"

    def _to_config(self) -> ChargeConfig:
        return ChargeConfig()

    @classmethod
    def _from_config(cls, config: ChargeConfig) -> LookingTool:
        return cls()


def charging_agent(tool: BaseTool[Any, Any] | None = None) -> dict[str, Any]:
    """An agent whose replay model calls ``charge`` once (call id ``call_7``), then answers.

    ``tool``: the ``charge`` tool (a :class:`ChargeTool` unless given).
    """
    from muster.agents import AssistantAgent
    from muster.core import FunctionCall
    from muster.models import CreateResult, RequestUsage
    from muster.models.replay import ReplayChatCompletionClient

    call = CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id="call_7", name="charge", arguments='{"amount": 5}')],
        usage=RequestUsage(prompt_tokens=1, completion_tokens=1),
        cached=False,
    )
    info = {
        "vision": False,
        "function_calling": True,
        "json_output": False,
        "family": "unknown",
        "structured_output": False,
    }
    client = ReplayChatCompletionClient(chat_completions=[call, "done"], model_info=info)
    agent = AssistantAgent(
        "cashier", model_client=client, tools=[tool or ChargeTool()], reflect_on_tool_use=True
    )
    return agent.dump_component().model_dump()
