"""Import-time guards: ``import muster.agents`` loads what AssistantAgent needs and no more.

See docs/performance.md ("Import time"). Package ``__init__`` modules re-export lazily
(``muster.core.internal``) and pydantic models defer their schema build to first use.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

LAZY_PACKAGES = [
    "muster.core",
    "muster.agents",
    "muster.base",
    "muster.memory",
    "muster.model_context",
    "muster.teams",
    "muster.state",
    "muster.tools",
    "muster.code_executor",
    "muster.models.usage",
    # the internal modules other packages import from (docs/architecture.md)
    "muster.core.internal",
    "muster.base.internal",
    "muster.tools.internal",
    "muster.code_executor.internal",
    # the service's store: the protocol without SQLAlchemy
    "muster.service.store",
]


def _run(code: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_importing_agents_skips_the_runtime_other_agents_and_schema_builds() -> None:
    out = _run(
        "import sys\n"
        "from muster.agents import AssistantAgent\n"
        "from pydantic import BaseModel\n"
        "def walk(c):\n"
        "    for s in c.__subclasses__():\n"
        "        yield s\n"
        "        yield from walk(s)\n"
        "built = sorted(c.__name__ for c in walk(BaseModel) if c.__dict__.get('__pydantic_complete__'))\n"
        "unwanted = ('muster.core._single_threaded_agent_runtime', 'muster.core._serialization',"
        " 'muster.agents._code_executor_agent', 'muster.agents._society_of_mind_agent', 'muster.teams',"
        " 'importlib.metadata')\n"
        "print(sorted(m for m in unwanted if m in sys.modules), built)\n"
    )
    assert out == "[] []"


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_lazy_package_exports_every_name(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        assert getattr(module, name) is value  # cached after the first access
        assert name in dir(module)
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchName'"):
        module.NoSuchName  # noqa: B018


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_star_import_of_a_lazy_package(package: str) -> None:
    names = _run(
        f"from {package} import *\nimport {package} as m\nprint(all(n in globals() for n in m.__all__))"
    )
    assert names == "True"


def test_deferred_models_build_on_first_use_with_the_same_schema() -> None:
    from pydantic import BaseModel

    from muster.messages import StructuredMessage, TextMessage

    class Point(BaseModel):
        x: int

    message = StructuredMessage[Point](content=Point(x=1), source="a")
    assert StructuredMessage[Point].model_validate(message.model_dump()).content == Point(x=1)
    assert TextMessage.model_json_schema()["properties"]["type"]["const"] == "TextMessage"
    assert TextMessage.load(TextMessage(content="hi", source="a").dump()).content == "hi"
