"""Declarative components: dump/load, error messages naming the field, AutoGen provider paths."""

from __future__ import annotations

from typing import Self

import pytest
from pydantic import BaseModel

from muster.core import Component, ComponentBase, ComponentLoader, ComponentModel, InMemoryStore
from muster.core.exceptions import ComponentLoadError


class GreeterConfig(BaseModel):
    greeting: str
    repeat: int = 1


class Greeter(Component[GreeterConfig], ComponentBase[GreeterConfig]):
    """Greets people, declaratively."""

    component_type = "greeter"
    component_config_schema = GreeterConfig

    def __init__(self, greeting: str, repeat: int = 1) -> None:
        self.greeting = greeting
        self.repeat = repeat

    def greet(self, name: str) -> str:
        return " ".join([f"{self.greeting}, {name}"] * self.repeat)

    def _to_config(self) -> GreeterConfig:
        return GreeterConfig(greeting=self.greeting, repeat=self.repeat)

    @classmethod
    def _from_config(cls, config: GreeterConfig) -> Self:
        return cls(config.greeting, config.repeat)


def test_dump_and_load_round_trip() -> None:
    spec = Greeter("Hi", repeat=2).dump_component()
    assert spec.component_type == "greeter"
    assert spec.config == {"greeting": "Hi", "repeat": 2}
    assert spec.description == "Greets people, declaratively."
    loaded = Greeter.load_component(spec)
    assert loaded.greet("Ann") == "Hi, Ann Hi, Ann"
    from_json = ComponentLoader.load_component(
        ComponentModel.model_validate_json(spec.model_dump_json()), Greeter
    )
    assert from_json.greet("Bo") == "Hi, Bo Hi, Bo"


def test_load_error_names_the_bad_field() -> None:
    spec = Greeter("Hi").dump_component().model_dump()
    spec["config"] = {"greeting": "Hi", "repeat": "many"}
    with pytest.raises(ComponentLoadError, match=r"config\.repeat"):
        Greeter.load_component(spec)
    spec["config"] = {}
    with pytest.raises(ComponentLoadError, match=r"config\.greeting"):
        Greeter.load_component(spec)


def test_bad_provider_and_wrong_expected_type() -> None:
    with pytest.raises(ComponentLoadError, match="has no 'Nope'"):
        ComponentLoader.load_component({"provider": "muster.core.Nope", "config": {}})
    with pytest.raises(ComponentLoadError, match="provider"):
        ComponentLoader.load_component({"config": {}})
    spec = Greeter("Hi").dump_component()
    with pytest.raises(ComponentLoadError, match="expected InMemoryStore"):
        ComponentLoader.load_component(spec, InMemoryStore)


def test_autogen_provider_paths_translate() -> None:
    for provider in ("autogen_core.InMemoryStore", "autogen_core._cache_store.InMemoryStore"):
        loaded = ComponentLoader.load_component({"provider": provider, "config": {}})
        assert isinstance(loaded, InMemoryStore)


class CounterConfig(BaseModel):
    start: int


class Counter(ComponentBase[CounterConfig], Component[CounterConfig]):
    """Written the way AutoGen's component guide writes a component: interface base first."""

    component_type = "custom"
    component_config_schema = CounterConfig

    def __init__(self, start: int) -> None:
        self.start = start

    def _to_config(self) -> CounterConfig:
        return CounterConfig(start=self.start)

    @classmethod
    def _from_config(cls, config: CounterConfig) -> Self:
        return cls(config.start)


def test_component_base_before_component_has_a_consistent_mro() -> None:
    spec = Counter(4).dump_component()
    assert spec.provider.endswith("Counter") and spec.config == {"start": 4}
    loaded = ComponentLoader.load_component(spec, Counter)
    assert loaded.start == 4
    assert isinstance(loaded, ComponentBase) and isinstance(loaded, Component)


class Solo(Component[CounterConfig]):
    component_type = "custom"
    component_config_schema = CounterConfig

    def __init__(self, start: int) -> None:
        self.start = start

    def _to_config(self) -> CounterConfig:
        return CounterConfig(start=self.start)

    @classmethod
    def _from_config(cls, config: CounterConfig) -> Self:
        return cls(config.start)


def test_component_alone_still_dumps_and_loads() -> None:
    """muster's shorter spelling keeps working: ``Component`` brings dump and load itself."""
    spec = Solo(2).dump_component()
    assert spec.config == {"start": 2}
    assert ComponentLoader.load_component(spec, Solo).start == 2


def test_unknown_short_provider_name_lists_the_known_ones() -> None:
    with pytest.raises(ComponentLoadError, match="OpenAIChatCompletionClient"):
        ComponentLoader.load_component({"provider": "NoSuchClient", "config": {}})
