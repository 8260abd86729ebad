"""``/v1/specs``: JSON and YAML bodies, versions, invalid specs, the ``--specs`` folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from api_kit import Api, make_settings, running_api
from service_kit import replay_agent
from test_errors import assert_problem


async def test_versions_go_up_only_when_the_body_changes(api: Api) -> None:
    first = await api.put_spec("helper", replay_agent("helper", ["a"]))
    same = await api.put_spec("helper", replay_agent("helper", ["a"]))
    changed = await api.put_spec("helper", replay_agent("helper", ["b"]))
    assert (first["version"], same["version"], changed["version"]) == (1, 1, 2)
    latest = (await api.client.get("/v1/specs/helper")).json()
    assert latest["version"] == 2
    assert (await api.client.get("/v1/specs/helper", params={"version": 1})).json()["component"] == first[
        "component"
    ]
    assert [s["name"] for s in (await api.client.get("/v1/specs")).json()] == ["helper"]


async def test_a_yaml_body_is_accepted(api: Api) -> None:
    body = yaml.safe_dump({"name": "yamly", "component": replay_agent("yamly", ["ok"])})
    response = await api.client.post("/v1/specs", content=body, headers={"content-type": "application/yaml"})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "yamly"


async def test_a_spec_that_does_not_build_is_refused(api: Api) -> None:
    broken = {"provider": "muster.agents.AssistantAgent", "config": {"name": "x"}}
    assert_problem(
        await api.client.post("/v1/specs", json={"name": "bad", "component": broken}), 422, "component"
    )
    tool = {"provider": "muster.core.InMemoryStore", "config": {}}
    assert_problem(
        await api.client.post("/v1/specs", json={"name": "bad", "component": tool}), 422, "component"
    )
    bad_name = {"name": "has space", "component": replay_agent("a", [])}
    assert_problem(await api.client.post("/v1/specs", json=bad_name), 422, "name")
    assert_problem(
        await api.client.post("/v1/specs", content=b"name: [", headers={"content-type": "text/yaml"}),
        422,
        "body",
    )


async def test_specs_folder_is_loaded_at_start(database: Any, tmp_path: Path) -> None:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "one.json").write_text(json.dumps(replay_agent("one", ["1"])))
    (folder / "two.yaml").write_text(yaml.safe_dump(replay_agent("two", ["2"])))
    (folder / "notes.txt").write_text("not a spec")
    settings = make_settings(database, specs_dir=str(folder))
    async with running_api(settings, database) as api:
        names = sorted(s["name"] for s in (await api.client.get("/v1/specs")).json())
        assert names == ["one", "two"]
        thread = await api.thread()
        done = await api.client.post(f"/v1/threads/{thread}/runs/wait", json={"spec": "two", "task": "x"})
        assert done.json()["messages"][-1]["content"] == "2"
