"""Logging set up for AutoGen's logger names sees muster's records (muster/_logging.py)."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest

import muster
from muster.agents import AssistantAgent
from muster.core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler
from muster.models.replay import ReplayChatCompletionClient
from muster.tools import FunctionTool

AUTOGEN_NAMES = [
    "autogen_core",
    "autogen_core.events",
    "autogen_core.trace",
    "autogen_agentchat",
    "autogen_agentchat.events",
]


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def autogen_logger() -> Iterator[list[tuple[logging.Logger, Collect]]]:
    """Restores the AutoGen-named loggers' level and handlers after the test changed them."""
    added: list[tuple[logging.Logger, Collect]] = []
    saved = {name: logging.getLogger(name).level for name in AUTOGEN_NAMES}
    yield added
    for logger, handler in added:
        logger.removeHandler(handler)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def attach(added: list[tuple[logging.Logger, Collect]], name: str, level: int) -> Collect:
    """What AutoGen's logging guide does: a handler and a level on a logger named by string."""
    logger = logging.getLogger(name)
    handler = Collect()
    logger.addHandler(handler)
    logger.setLevel(level)
    added.append((logger, handler))
    return handler


class Echo(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("echo")

    @message_handler
    async def on_text(self, message: str, ctx: MessageContext) -> str:
        return message


async def test_autogen_core_event_logger_sees_runtime_events(
    autogen_logger: list[tuple[logging.Logger, Collect]],
) -> None:
    events = attach(autogen_logger, "autogen_core.events", logging.DEBUG)
    runtime = SingleThreadedAgentRuntime()
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    assert await runtime.send_message("hi", AgentId("echo", "k")) == "hi"
    await runtime.stop()
    assert any(r.getMessage().startswith("send str -> echo/k") for r in events.records)
    assert {r.name for r in events.records} == {"muster.core.events"}


async def test_autogen_core_root_logger_level_and_handler_apply(
    autogen_logger: list[tuple[logging.Logger, Collect]],
) -> None:
    core = attach(autogen_logger, "autogen_core", logging.INFO)
    runtime = SingleThreadedAgentRuntime()
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    assert await runtime.send_message(3.5, AgentId("echo", "k")) is None  # unhandled: logged at INFO
    await runtime.stop()
    messages = [r.getMessage() for r in core.records]
    assert "Unhandled float sent to echo/k" in messages
    assert not any(r.levelno < logging.INFO for r in core.records)  # the level set on autogen_core holds


async def test_autogen_agentchat_and_llm_call_events_reach_their_loggers(
    autogen_logger: list[tuple[logging.Logger, Collect]],
) -> None:
    agentchat_events = attach(autogen_logger, "autogen_agentchat.events", logging.INFO)
    core_events = attach(autogen_logger, "autogen_core.events", logging.INFO)

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    from muster.core import FunctionCall
    from muster.models import CreateResult, ModelInfo, RequestUsage

    call = FunctionCall(id="1", name="add", arguments='{"a": 1, "b": 2}')
    client = ReplayChatCompletionClient(
        [
            CreateResult(
                finish_reason="function_calls", content=[call], usage=RequestUsage(1, 1), cached=False
            ),
            "3",
        ],
        model_info=ModelInfo(
            vision=False, function_calling=True, json_output=False, family="unknown", structured_output=False
        ),
    )
    agent = AssistantAgent("assistant", model_client=client, tools=[FunctionTool(add, "Add two numbers.")])
    await agent.run(task="1+2?")
    assert agentchat_events.records, "tool call events reach autogen_agentchat.events"
    assert core_events.records, "model call records reach autogen_core.events"


def test_each_record_reaches_a_root_handler_once(
    autogen_logger: list[tuple[logging.Logger, Collect]], caplog: pytest.LogCaptureFixture
) -> None:
    attach(autogen_logger, "autogen_core.events", logging.INFO)
    caplog.set_level(logging.INFO)
    logging.getLogger(muster.core.EVENT_LOGGER_NAME).info("once")
    assert [r.getMessage() for r in caplog.records].count("once") == 1


def test_muster_names_still_configure_their_own_records(
    autogen_logger: list[tuple[logging.Logger, Collect]],
) -> None:
    ours = attach(autogen_logger, "muster.core", logging.INFO)
    theirs = attach(autogen_logger, "autogen_core", logging.INFO)
    logging.getLogger("muster.core.trace").info("trace line")
    logging.getLogger("muster.events").info("agent event")
    assert [r.getMessage() for r in ours.records] == ["trace line"]
    assert [r.getMessage() for r in theirs.records] == ["trace line"]


def test_logging_configured_before_import_keeps_working() -> None:
    """A program that runs dictConfig for AutoGen's names first, then imports muster."""
    code = """
import logging, logging.config, io
stream = io.StringIO()
logging.config.dictConfig({
    "version": 1,
    "handlers": {"s": {"class": "logging.StreamHandler", "stream": stream}},
    "loggers": {"autogen_core.events": {"level": "DEBUG", "handlers": ["s"], "propagate": False}},
})
import asyncio
from muster.core import AgentId, SingleThreadedAgentRuntime, RoutedAgent, MessageContext, message_handler

class Echo(RoutedAgent):
    def __init__(self):
        super().__init__("echo")

    @message_handler
    async def on_text(self, message: str, ctx: MessageContext) -> str:
        return message

async def main():
    runtime = SingleThreadedAgentRuntime()
    await Echo.register(runtime, "echo", Echo)
    runtime.start()
    await runtime.send_message("hi", AgentId("echo", "k"))
    await runtime.stop()

asyncio.run(main())
print(stream.getvalue().splitlines()[0])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("send str -> echo/k")
