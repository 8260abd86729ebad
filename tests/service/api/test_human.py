"""Human in the loop: a user proxy's question or a handoff to the user interrupts; input resumes."""

from __future__ import annotations

from typing import Any

from api_kit import Api
from model_server import ModelServer, openai_agent

from muster.agents import UserProxyAgent
from muster.conditions import HandoffTermination, MaxMessageTermination
from muster.core import ComponentLoader
from muster.teams import RoundRobinGroupChat, Swarm


async def test_user_proxy_question_interrupts_and_the_posted_input_answers_it(
    api: Api, model_server: ModelServer
) -> None:
    alice = ComponentLoader.load_component(openai_agent("alice", model_server.url))
    team = RoundRobinGroupChat(
        [alice, UserProxyAgent("user")], termination_condition=MaxMessageTermination(4)
    )
    await api.put_spec("review", team.dump_component().model_dump())
    thread = await api.thread()
    first = await api.start(thread, "review", "draft a plan")
    asked = await api.wait_status(first["id"], "interrupted")
    assert asked["stop_reason"] == "Input requested by user."
    thread_info = (await api.client.get(f"/v1/threads/{thread}")).json()
    assert thread_info["status"] == "interrupted"
    answer = await api.start(thread, "review", "looks good, add a budget")
    await api.wait_status(answer["id"], "succeeded")
    messages = [
        (m["source"], m.get("content")) for m in await api.messages(thread) if m["type"] == "TextMessage"
    ]
    assert messages == [
        ("user", "draft a plan"),
        ("alice", "alice #2"),
        ("user", "looks good, add a budget"),
        ("alice", "alice #4"),
    ]


def _handoff_or_thanks(body: dict[str, Any]) -> dict[str, Any] | str:
    if any("the numbers are" in str(m.get("content")) for m in body["messages"]):
        return "thanks, done"
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "transfer_to_user", "arguments": "{}"}}
        ],
    }


async def test_handoff_to_the_user_interrupts_and_a_text_answer_hands_back(
    api: Api, model_server: ModelServer
) -> None:
    model_server.replies["alice"] = _handoff_or_thanks
    alice = ComponentLoader.load_component(openai_agent("alice", model_server.url, handoffs=["user"]))
    swarm = Swarm([alice], termination_condition=HandoffTermination("user") | MaxMessageTermination(6))
    await api.put_spec("swarm", swarm.dump_component().model_dump())
    thread = await api.thread()
    first = await api.start(thread, "swarm", "what were the numbers?")
    asked = await api.wait_status(first["id"], "interrupted")
    assert "Handoff to user" in asked["stop_reason"]
    answer = await api.start(thread, "swarm", "the numbers are 1, 2, 3")
    ended = await api.wait_status(answer["id"], "succeeded", "interrupted")
    messages = await api.messages(thread)
    handback = [m for m in messages if m["type"] == "HandoffMessage" and m["source"] == "user"]
    assert (
        handback and handback[0]["target"] == "alice" and handback[0]["content"] == "the numbers are 1, 2, 3"
    )
    assert any(m.get("content") == "thanks, done" for m in messages)
    assert ended["status"] in ("succeeded", "interrupted")
