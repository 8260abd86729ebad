"""Declarative components: anything that can be dumped to, and rebuilt from, a spec.

A spec has AutoGen's shape (``provider``, ``component_type``, ``version``,
``component_version``, ``description``, ``label``, ``config``) so specs written for
AutoGen load here: providers under ``autogen_*`` are translated to the matching
muster module (see :data:`AUTOGEN_PROVIDER_PREFIXES`).
"""

from __future__ import annotations

import importlib
import warnings
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Self, TypeGuard, TypeVar, cast, overload

from pydantic import BaseModel, ValidationError

from .internal import lazy_exports

if TYPE_CHECKING:
    from ._component_model import ComponentModel

__all__ = [
    "AUTOGEN_PROVIDER_PREFIXES",
    "Component",
    "ComponentBase",
    "ComponentFromConfig",
    "ComponentLoader",
    "ComponentModel",
    "ComponentSchemaType",
    "ComponentToConfig",
    "ComponentType",
    "is_component_class",
    "is_component_instance",
    "register_provider_alias",
]

ComponentType = Literal["model", "agent", "tool", "termination", "token_provider", "workbench"] | str
ConfigT = TypeVar("ConfigT", bound=BaseModel)
FromConfigT = TypeVar("FromConfigT", bound=BaseModel, contravariant=True)
ToConfigT = TypeVar("ToConfigT", bound=BaseModel, covariant=True)
ExpectedType = TypeVar("ExpectedType")

AUTOGEN_PROVIDER_PREFIXES: dict[str, str] = {
    "autogen_agentchat.agents": "muster.agents",
    "autogen_agentchat.teams": "muster.teams",
    "autogen_agentchat.conditions": "muster.conditions",
    "autogen_agentchat.base": "muster.base",
    "autogen_agentchat.tools": "muster.tools",
    "autogen_core.tools": "muster.tools",
    "autogen_core.model_context": "muster.model_context",
    "autogen_core.memory": "muster.memory",
    "autogen_core.models": "muster.models",
    "autogen_core": "muster.core",
    "autogen_ext.models.openai": "muster.models.openai",
    "autogen_ext.models.anthropic": "muster.models.anthropic",
    "autogen_ext.models.replay": "muster.models.replay",
    "autogen_ext.models.cache": "muster.models.cache",
    "autogen_ext.models.ollama": "muster.models.ollama",
    "autogen_ext.cache_store": "muster.cache_store",
    "autogen_ext.tools.mcp": "muster.tools.mcp",
    "autogen_ext.tools.http": "muster.tools.http",
}
"""Module prefixes of AutoGen specs and the muster modules that implement them."""

_PROVIDER_ALIASES: dict[str, str] = {
    # AutoGen resolves these short names itself (its WELL_KNOWN_PROVIDERS), and its docs
    # write model configs with them, so they must load here too.
    "OpenAIChatCompletionClient": "muster.models.openai.OpenAIChatCompletionClient",
    "openai_chat_completion_client": "muster.models.openai.OpenAIChatCompletionClient",
    "AzureOpenAIChatCompletionClient": "muster.models.openai.AzureOpenAIChatCompletionClient",
    "azure_openai_chat_completion_client": "muster.models.openai.AzureOpenAIChatCompletionClient",
    "OllamaChatCompletionClient": "muster.models.ollama.OllamaChatCompletionClient",
    "ollama_chat_completion_client": "muster.models.ollama.OllamaChatCompletionClient",
    "AnthropicChatCompletionClient": "muster.models.anthropic.AnthropicChatCompletionClient",
    "anthropic_chat_completion_client": "muster.models.anthropic.AnthropicChatCompletionClient",
}


def register_provider_alias(alias: str, provider: str) -> None:
    """Let specs name a component by a short alias (``"openai_chat_completion_client"``).

    The model clients' short names AutoGen knows are registered already.
    """
    _PROVIDER_ALIASES[alias] = provider


# ComponentModel lives in its own module, defined by the first dump or load (a pydantic class
# costs about 0.2 ms to define, and a plain run never writes a spec); this keeps
# ``from muster.core._component_config import ComponentModel`` working.
if not TYPE_CHECKING:  # hidden from mypy, which sees the import above
    __getattr__, __dir__ = lazy_exports(__name__, {"ComponentModel": "muster.core._component_model"})


class ComponentSchemaType(Generic[ConfigT]):
    """Declares the pydantic model that validates a component's config."""

    component_config_schema: type[ConfigT]


class ComponentFromConfig(Generic[FromConfigT]):
    """Builds a component from its validated config."""

    @classmethod
    def _from_config(cls, config: FromConfigT) -> Self:
        raise NotImplementedError(f"{cls.__name__} cannot be loaded from a config")

    @classmethod
    def _from_config_past_version(cls, config: dict[str, Any], version: int) -> Self:
        """Override to migrate configs written by an older ``component_version``."""
        raise NotImplementedError(
            f"{cls.__name__} cannot load component_version {version}; only the current one"
        )


class ComponentToConfig(Generic[ToConfigT]):
    """Turns a component into its config and spec."""

    component_type: ClassVar[ComponentType]
    component_version: ClassVar[int] = 1
    component_provider_override: ClassVar[str | None] = None
    component_description: ClassVar[str | None] = None
    component_label: ClassVar[str | None] = None

    def _to_config(self) -> ToConfigT:
        raise NotImplementedError(f"{type(self).__name__} cannot be dumped to a config")

    def dump_component(self) -> ComponentModel:
        """Return this component's spec; load it back with ``load_component``."""
        from ._component_model import ComponentModel

        cls = type(self)
        provider = cls.component_provider_override or f"{cls.__module__}.{cls.__qualname__}"
        if "<locals>" in provider:
            raise TypeError(f"{cls.__name__} is defined inside a function and cannot be dumped")
        config = self._to_config()
        description = cls.component_description
        if description is None and cls.__doc__:
            description = cls.__doc__.strip().splitlines()[0]
        return ComponentModel(
            provider=provider,
            component_type=cls.component_type,
            version=cls.component_version,
            component_version=cls.component_version,
            description=description,
            label=cls.component_label or cls.__name__,
            config=config.model_dump(exclude_none=True, mode="json"),
        )


def _translate_provider(provider: str) -> str:
    provider = _PROVIDER_ALIASES.get(provider, provider)
    for prefix, target in AUTOGEN_PROVIDER_PREFIXES.items():
        if provider == prefix or provider.startswith(prefix + "."):
            rest = provider[len(prefix) :]
            # AutoGen's private sub-modules (``autogen_agentchat.agents._assistant_agent``)
            # collapse to muster's public module: keep only the class name.
            class_name = rest.rsplit(".", 1)[-1]
            return f"{target}.{class_name}"
    return provider


def _import_class(provider: str) -> type[Any]:
    # The exceptions load when a spec is loaded, not with every component class: a plain
    # run never loads one (docs/performance.md, "Start-up").
    from .exceptions import ComponentLoadError

    module_path, _, class_name = provider.rpartition(".")
    if not module_path:
        known = ", ".join(sorted(_PROVIDER_ALIASES))
        raise ComponentLoadError(
            f"provider {provider!r}: expected 'module.ClassName' or one of the short names {known}"
        )
    try:
        module = importlib.import_module(module_path)
    except ImportError as exc:
        raise ComponentLoadError(
            f"provider {provider!r}: cannot import module {module_path!r}: {exc}"
        ) from exc
    try:
        cls = getattr(module, class_name)
    except AttributeError as exc:
        raise ComponentLoadError(
            f"provider {provider!r}: module {module_path!r} has no {class_name!r}"
        ) from exc
    if not isinstance(cls, type):
        raise ComponentLoadError(f"provider {provider!r} is not a class")
    return cls


def _format_validation_error(provider: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(f"config.{loc}: {err['msg']}")
    return f"invalid config for {provider}: " + "; ".join(parts)


class ComponentLoader:
    """Mixin giving every component class ``load_component``."""

    @overload
    @classmethod
    def load_component(cls, model: ComponentModel | dict[str, Any], expected: None = None) -> Self: ...

    @overload
    @classmethod
    def load_component(
        cls, model: ComponentModel | dict[str, Any], expected: type[ExpectedType]
    ) -> ExpectedType: ...

    @classmethod
    def load_component(
        cls, model: ComponentModel | dict[str, Any], expected: type[ExpectedType] | None = None
    ) -> Self | ExpectedType:
        """Build a component from its spec.

        Args:
            model: The spec, as a :class:`ComponentModel` or a plain dict (parsed JSON/YAML).
            expected: The class the result must be an instance of; defaults to ``cls``
                unless ``cls`` is the generic loader itself.

        Raises:
            ComponentLoadError: the spec is malformed, names an unknown provider, or its
                config fails validation (the message names the bad field).
        """
        from ._component_model import ComponentModel
        from .exceptions import ComponentLoadError

        if isinstance(model, dict):
            try:
                loaded_model = ComponentModel.model_validate(model)
            except ValidationError as exc:
                parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
                raise ComponentLoadError("invalid component spec: " + "; ".join(parts)) from exc
        else:
            loaded_model = model

        provider = _translate_provider(loaded_model.provider)
        component_class = _import_class(provider)
        if not is_component_class(component_class):
            raise ComponentLoadError(f"provider {provider!r} is not a component class")

        schema = component_class.component_config_schema
        current_version = component_class.component_version
        version = loaded_model.component_version or loaded_model.version or current_version
        if version < current_version:
            instance = component_class._from_config_past_version(loaded_model.config, version)
        else:
            try:
                config = schema.model_validate(loaded_model.config)
            except ValidationError as exc:
                raise ComponentLoadError(_format_validation_error(provider, exc)) from exc
            instance = component_class._from_config(config)

        target: type[Any] | None = expected
        if target is None and cls is not ComponentLoader and cls is not ComponentBase:
            target = cls
        if target is not None and not isinstance(instance, target):
            raise ComponentLoadError(
                f"provider {provider!r} built a {type(instance).__name__}, expected {target.__name__}"
            )
        return cast("Self | ExpectedType", instance)


class ComponentBase(ComponentToConfig[ConfigT], ComponentLoader, Generic[ConfigT]):
    """Base for abstract component families (a model client, a tool...): dump and load only."""


class Component(
    ComponentFromConfig[ConfigT],
    ComponentSchemaType[ConfigT],
    ComponentToConfig[ConfigT],
    ComponentLoader,
    Generic[ConfigT],
):
    """A concrete component: declares its config schema and implements ``_to_config``/``_from_config``.

    It takes :class:`ComponentToConfig` and :class:`ComponentLoader` directly rather than
    through :class:`ComponentBase`, so both spellings work: ``class C(Component[Cfg])`` and
    AutoGen's documented ``class C(ComponentBase[Cfg], Component[Cfg])`` (deriving from
    ``ComponentBase`` here would make that second order an inconsistent MRO).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not is_component_class(cls):
            warnings.warn(
                f"Component class {cls.__name__} must define component_config_schema and component_type",
                stacklevel=2,
            )


def is_component_class(cls: type[Any]) -> TypeGuard[type[Component[BaseModel]]]:
    """Whether ``cls`` can be dumped and loaded (has a schema, a type and both conversions)."""
    return (
        isinstance(cls, type)
        and issubclass(cls, ComponentFromConfig)
        and issubclass(cls, ComponentToConfig)
        and _declares(cls, "component_config_schema")
        and hasattr(cls, "component_type")
    )


def _declares(cls: type[Any], name: str) -> bool:
    """Whether ``cls`` or a base defines ``name``, without reading it.

    Reading it would import a lazily loaded config schema (``LazyClassAttribute``) as soon
    as the class is defined, which is what the lazy attribute is there to avoid.
    """
    return any(name in vars(klass) for klass in cls.__mro__)


def is_component_instance(obj: Any) -> TypeGuard[Component[BaseModel]]:
    """Whether ``obj`` is an instance of a component class."""
    return is_component_class(type(obj))
