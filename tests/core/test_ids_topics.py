"""AgentId / TopicId validation and DefaultTopicId's source rule."""

from __future__ import annotations

import pytest

from muster.core import (
    AgentId,
    AgentType,
    DefaultTopicId,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    message_handler,
)
from muster.core.exceptions import InvalidAgentIdError, InvalidTopicError


@pytest.mark.parametrize("agent_type", ["writer", "my-agent_2", "team.member"])
def test_valid_agent_types(agent_type: str) -> None:
    agent_id = AgentId(agent_type, "k")
    assert str(agent_id) == f"{agent_type}/k"
    assert AgentId.from_str(str(agent_id)) == agent_id


@pytest.mark.parametrize("agent_type", ["", "has space", "slash/type", "colon:"])
def test_invalid_agent_types_raise(agent_type: str) -> None:
    with pytest.raises(InvalidAgentIdError):
        AgentId(agent_type, "k")


def test_invalid_keys_and_strings() -> None:
    with pytest.raises(InvalidAgentIdError):
        AgentId("a", "")
    with pytest.raises(InvalidAgentIdError):
        AgentId("a", "tab\there")
    with pytest.raises(InvalidAgentIdError):
        AgentId.from_str("no-separator")


def test_agent_id_accepts_agent_type_and_is_hashable() -> None:
    assert AgentId(AgentType("a"), "k") == AgentId("a", "k")
    assert len({AgentId("a", "k"), AgentId("a", "k"), AgentId("a", "j")}) == 2


def test_topic_validation_and_parsing() -> None:
    topic = TopicId.from_str("chat.events:v1/session-1")
    assert topic == TopicId("chat.events:v1", "session-1")
    with pytest.raises(InvalidTopicError):
        TopicId("bad type", "s")
    with pytest.raises(InvalidTopicError):
        TopicId.from_str("nosource")


def test_default_topic_outside_handler_uses_default_source() -> None:
    topic = DefaultTopicId()
    assert (topic.type, topic.source) == ("default", "default")
    assert DefaultTopicId("news", "s").source == "s"


class _TopicReporter(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("reports the default topic seen inside its handler")

    @message_handler
    async def report(self, message: str, ctx: MessageContext) -> str:
        return str(DefaultTopicId())


async def test_default_topic_inside_handler_uses_agent_key() -> None:
    runtime = SingleThreadedAgentRuntime()
    await _TopicReporter.register(runtime, "reporter", _TopicReporter)
    runtime.start()
    assert await runtime.send_message("?", AgentId("reporter", "session-7")) == "default/session-7"
    await runtime.stop()
