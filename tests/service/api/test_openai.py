"""``POST /v1/chat/completions`` through the official ``openai`` SDK, plain and streamed."""

from __future__ import annotations

from typing import Any

import openai
from api_kit import API_KEY, Api
from service_kit import replay_agent

from muster.core import ComponentLoader
from muster.teams import RoundRobinGroupChat


async def test_the_openai_sdk_talks_to_a_spec(api: Api) -> None:
    await api.put_spec("helper", replay_agent("helper", ["Four."]))
    client = openai.AsyncOpenAI(base_url=f"{api.url}/v1", api_key=API_KEY, max_retries=0)
    try:
        completion = await client.chat.completions.create(
            model="helper",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
        )
        assert completion.choices[0].message.content == "Four."
        assert completion.choices[0].finish_reason == "stop"
        assert completion.model == "helper"
    finally:
        await client.close()


async def test_the_openai_sdk_streams_a_team_one_message_per_chunk(api: Api) -> None:
    agents: list[Any] = [
        ComponentLoader.load_component(replay_agent("writer", ["Draft."])),
        ComponentLoader.load_component(replay_agent("critic", ["APPROVE"])),
    ]
    team = RoundRobinGroupChat(agents, max_turns=2)
    await api.put_spec("team", team.dump_component().model_dump())
    client = openai.AsyncOpenAI(base_url=f"{api.url}/v1", api_key=API_KEY, max_retries=0)
    try:
        stream = await client.chat.completions.create(
            model="team", messages=[{"role": "user", "content": "write"}], stream=True
        )
        deltas = []
        finish = None
        async for chunk in stream:
            choice = chunk.choices[0]
            if choice.delta.content:
                deltas.append(choice.delta.content)
            finish = choice.finish_reason or finish
        assert "".join(deltas) == "Draft.\n\nAPPROVE"
        assert finish == "stop"
        plain = await client.chat.completions.create(
            model="team", messages=[{"role": "user", "content": "write"}]
        )
        assert plain.choices[0].message.content == "Draft.\n\nAPPROVE"
    finally:
        await client.close()


async def test_an_unknown_model_is_a_problem_naming_model(api: Api) -> None:
    client = openai.AsyncOpenAI(base_url=f"{api.url}/v1", api_key=API_KEY, max_retries=0)
    try:
        try:
            await client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "x"}])
        except openai.UnprocessableEntityError as exc:
            assert exc.body["field"] == "model"  # type: ignore[index]
        else:
            raise AssertionError("an unknown model must be refused")
    finally:
        await client.close()
