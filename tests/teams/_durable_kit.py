"""A deterministic model and team shapes for the cut-save-load-resume property tests.

The replay client answers by position, so a fresh process would replay from the start.
:class:`DigestModel` answers from a digest of the prompt it is given instead: two runs
that show it the same conversation get the same answer, in any process. That is what
makes "the resumed run produces the uninterrupted run's transcript" a meaningful check:
the prompt depends on every piece of restored state (model contexts, buffers, ledgers).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal, Self

from pydantic import BaseModel

from muster.agents import AssistantAgent
from muster.base import Team, TerminationCondition
from muster.conditions import (
    HandoffTermination,
    MaxMessageTermination,
    SourceMatchTermination,
    TextMentionTermination,
)
from muster.core import CancellationToken, Component, FunctionCall
from muster.messages import BaseAgentEvent, BaseChatMessage
from muster.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelFamily,
    ModelInfo,
    RequestUsage,
)
from muster.teams import (
    DiGraphBuilder,
    GraphFlow,
    MagenticOneGroupChat,
    RoundRobinGroupChat,
    SelectorGroupChat,
    Swarm,
)
from muster.tools import Tool, ToolSchema

TEAM_KINDS = ("round_robin", "selector", "swarm", "graph", "magentic_one", "nested")


class DigestModelConfig(BaseModel):
    mode: Literal["agent", "selector", "ledger"] = "agent"
    salt: str = ""
    handoff_every: int = 0
    finish_after: int = 8


def _digest(messages: Sequence[LLMMessage], salt: str) -> int:
    text = "\x1e".join(f"{type(m).__name__}:{getattr(m, 'source', '')}:{m.content!s}" for m in messages)
    return int(hashlib.sha256(f"{salt}\x1f{text}".encode()).hexdigest()[:12], 16)


def _tool_name(tool: Tool | ToolSchema) -> str:
    return tool["name"] if isinstance(tool, Mapping) else tool.name


class DigestModel(ChatCompletionClient, Component[DigestModelConfig]):
    """Answers as a pure function of the prompt (see the module docstring).

    ``agent``: text, or (every ``handoff_every``-th digest) a call to a ``transfer_to_*``
    tool; ``selector``: one of the candidates the selector prompt lists; ``ledger``: the
    MagenticOne orchestrator's facts, plan, progress ledger (satisfied once the prompt has
    ``finish_after`` messages) and final answer.
    """

    component_type = "model"
    component_provider_override = "_durable_kit.DigestModel"
    component_config_schema = DigestModelConfig

    def __init__(
        self, mode: str = "agent", salt: str = "", handoff_every: int = 0, finish_after: int = 8
    ) -> None:
        self._config = DigestModelConfig(
            mode=mode,  # type: ignore[arg-type]
            salt=salt,
            handoff_every=handoff_every,
            finish_after=finish_after,
        )
        self.calls = 0

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = [],
        tool_choice: Any = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        self.calls += 1
        config = self._config
        h = _digest(messages, config.salt)
        usage = RequestUsage(prompt_tokens=len(messages), completion_tokens=1)
        last = str(messages[-1].content) if messages else ""
        if config.mode == "selector":
            match = re.search(r"from (\[[^\]]*\])", last)
            candidates: list[str] = ast.literal_eval(match.group(1)) if match else []
            return CreateResult(
                finish_reason="stop", content=candidates[h % len(candidates)], usage=usage, cached=False
            )
        if config.mode == "ledger":
            return CreateResult(
                finish_reason="stop", content=self._ledger(messages, last, h), usage=usage, cached=False
            )
        transfers = sorted(_tool_name(t) for t in tools if _tool_name(t).startswith("transfer_to_"))
        if transfers and config.handoff_every and h % config.handoff_every == 0:
            call = FunctionCall(id=f"call_{h:x}", name=transfers[h % len(transfers)], arguments="{}")
            return CreateResult(finish_reason="function_calls", content=[call], usage=usage, cached=False)
        words = ["alpha", "beta", "gamma", "delta", "TERMINATE" if h % 11 == 0 else "epsilon"]
        return CreateResult(
            finish_reason="stop",
            content=f"{config.salt} {words[h % 5]} {h % 1000}",
            usage=usage,
            cached=False,
        )

    def _ledger(self, messages: Sequence[LLMMessage], last: str, h: int) -> str:
        if "next_speaker" not in last:
            return f"notes {h % 997}"  # facts, plan, their updates, the final answer
        names = re.search(r"One of: (.*)\n", last)
        members = [n.strip() for n in names.group(1).split(",")] if names else []
        satisfied = len(messages) >= self._config.finish_after
        return json.dumps(
            {
                "is_request_satisfied": {"reason": "r", "answer": satisfied},
                "is_in_loop": {"reason": "r", "answer": h % 5 == 0},
                "is_progress_being_made": {"reason": "r", "answer": h % 3 != 0},
                "next_speaker": {"reason": "r", "answer": members[h % len(members)] if members else ""},
                "instruction_or_question": {"reason": "r", "answer": f"do step {h % 89}"},
            }
        )

    def create_stream(
        self, messages: Sequence[LLMMessage], **kwargs: Any
    ) -> AsyncGenerator[str | CreateResult, None]:
        async def _one() -> AsyncGenerator[str | CreateResult, None]:
            yield await self.create(messages, **kwargs)

        return _one()

    async def close(self) -> None:
        pass

    def actual_usage(self) -> RequestUsage:
        return RequestUsage(prompt_tokens=0, completion_tokens=0)

    def total_usage(self) -> RequestUsage:
        return RequestUsage(prompt_tokens=0, completion_tokens=0)

    def count_tokens(self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []) -> int:
        return len(messages)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = []
    ) -> int:
        return 10_000

    @property
    def capabilities(self) -> Any:
        return self.model_info

    @property
    def model_info(self) -> ModelInfo:
        return ModelInfo(
            vision=False,
            function_calling=True,
            json_output=False,
            family=ModelFamily.UNKNOWN,
            structured_output=False,
        )

    def _to_config(self) -> DigestModelConfig:
        return self._config

    @classmethod
    def _from_config(cls, config: DigestModelConfig) -> Self:
        return cls(**config.model_dump())


def _agent(name: str, *, handoffs: Sequence[str] = (), handoff_every: int = 0) -> AssistantAgent:
    return AssistantAgent(
        name,
        model_client=DigestModel(salt=name, handoff_every=handoff_every),
        description=f"Agent {name}",
        handoffs=list(handoffs),
        reflect_on_tool_use=False,
    )


def build_team(kind: str, size: int, budget: int, variant: int) -> Team:
    """A team of ``kind`` with ``size`` participants, stopping within about ``budget`` messages.

    ``variant`` picks the termination condition, so conditions and their ``|``/``&``
    combinations are resumed mid-progress too.
    """
    names = [f"agent{i}" for i in range(size)]
    conditions: list[TerminationCondition] = [
        MaxMessageTermination(budget),
        MaxMessageTermination(budget) | TextMentionTermination("TERMINATE"),
        (MaxMessageTermination(budget) & SourceMatchTermination([names[-1]]))
        | MaxMessageTermination(budget + 3),
    ]
    condition = conditions[variant % len(conditions)]
    if kind == "round_robin":
        return RoundRobinGroupChat([_agent(n) for n in names], termination_condition=condition)
    if kind == "selector":
        return SelectorGroupChat(
            [_agent(n) for n in names],
            model_client=DigestModel(mode="selector", salt="sel"),
            termination_condition=condition,
            allow_repeated_speaker=variant % 2 == 0,
        )
    if kind == "swarm":
        agents = [_agent(n, handoffs=[m for m in names if m != n], handoff_every=2) for n in names]
        return Swarm(agents, termination_condition=condition | HandoffTermination("user"))  # type: ignore[arg-type]
    if kind == "graph":
        agents = [_agent(n) for n in [*names, "closer"]]
        first, middle, closer = agents[0], agents[1:-1], agents[-1]
        builder = DiGraphBuilder()
        for agent in agents:
            builder.add_node(agent)
        # A fan-out from the first node (parallel turns), a conditional loop back (a cycle)
        # and a conditional exit to a leaf; a flow with neither condition met completes.
        for agent in middle:
            builder.add_edge(first, agent)
            builder.add_edge(
                agent, first, condition="alpha", activation_group="back", activation_condition="any"
            )
            builder.add_edge(
                agent, closer, condition="beta", activation_group="exit", activation_condition="any"
            )
        builder.set_entry_point(first)
        return GraphFlow(agents, graph=builder.build(), termination_condition=condition)  # type: ignore[arg-type]
    if kind == "magentic_one":
        return MagenticOneGroupChat(
            [_agent(n) for n in names],  # type: ignore[misc]
            model_client=DigestModel(mode="ledger", salt="orc", finish_after=budget + 4),
            termination_condition=condition if variant % 2 else None,
            max_turns=budget,
            max_stalls=2,
        )
    if kind == "nested":
        inner = RoundRobinGroupChat(
            [_agent(f"inner{i}") for i in range(size)],
            name="inner_team",
            description="A nested team",
            termination_condition=MaxMessageTermination(size),
        )
        return RoundRobinGroupChat([_agent(names[0]), inner], termination_condition=condition)
    raise ValueError(kind)


def transcript(messages: Sequence[BaseAgentEvent | BaseChatMessage]) -> list[tuple[str, str, str]]:
    """What the property compares: type, source and text of each message and event."""
    return [(type(m).__name__, m.source, m.to_text()) for m in messages]
