"""LangGraph's side of the service benchmark: a one-node graph answering from a fake chat model.

The equivalent of muster's one-agent spec on a replay model: one model call per run, no
network, so what is measured is the server's own cost per run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages


class State(TypedDict):
    messages: Annotated[list[Any], add_messages]


def _replies() -> Iterator[AIMessage]:
    while True:
        yield AIMessage(content="The answer is 42.")


_model = GenericFakeChatModel(messages=_replies())


async def agent(state: State) -> dict[str, Any]:
    return {"messages": [await _model.ainvoke(state["messages"])]}


_builder = StateGraph(State)
_builder.add_node("agent", agent)
_builder.add_edge(START, "agent")
_builder.add_edge("agent", END)
graph = _builder.compile()
