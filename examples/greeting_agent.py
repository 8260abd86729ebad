"""The core greeting agent: one routed agent answering a direct message.

Run it with ``python examples/greeting_agent.py``. It is the Python version of the seed's
C# hello-world: a ``GreetingAgent`` handles ``str`` messages and replies with a greeting,
registered on the in-process :class:`~muster.core.SingleThreadedAgentRuntime`.
"""

from __future__ import annotations

import asyncio

from muster.core import AgentId, MessageContext, RoutedAgent, SingleThreadedAgentRuntime, message_handler

__all__ = ["GreetingAgent", "main"]


class GreetingAgent(RoutedAgent):
    """Replies to any text it is sent."""

    def __init__(self) -> None:
        super().__init__("Greets whoever talks to it")

    @message_handler
    async def on_text(self, message: str, ctx: MessageContext) -> str:
        """Answer with a greeting that quotes the message."""
        return f"Hello, you said: {message}"


async def main() -> str:
    """Register the agent, send it one message and return (and print) its reply."""
    runtime = SingleThreadedAgentRuntime()
    await GreetingAgent.register(runtime, "GreetingAgent", GreetingAgent)
    runtime.start()
    try:
        reply: str = await runtime.send_message("Hello muster!", AgentId("GreetingAgent", "default"))
    finally:
        await runtime.stop_when_idle()
        await runtime.close()
    print(reply)
    return reply


if __name__ == "__main__":
    asyncio.run(main())
