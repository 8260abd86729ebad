"""Structured output: StructuredMessage[Model] and the factory agents use to make them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Self, TypeVar, cast

from pydantic import BaseModel, ConfigDict, computed_field, create_model

from muster.core import Component
from muster.models import UserMessage

from . import BaseChatMessage

__all__ = [
    "StructuredContentType",
    "StructuredMessage",
    "StructuredMessageFactory",
    "StructuredMessageFactoryConfig",
]


StructuredContentType = TypeVar("StructuredContentType", bound=BaseModel, covariant=True)


class StructuredMessage(BaseChatMessage, Generic[StructuredContentType]):
    """A chat message whose content is a pydantic model (structured output)."""

    content: StructuredContentType
    format_string: str | None = None
    """A ``str.format`` template over the content's fields used for :meth:`to_text`."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def type(self) -> str:
        """``StructuredMessage[<ContentModel>]``, so the content model is recorded in dumps."""
        return f"StructuredMessage[{self.content.__class__.__name__}]"

    def to_text(self) -> str:
        if self.format_string is not None:
            return self.format_string.format(**self.content.model_dump())
        return self.content.model_dump_json()

    def to_model_text(self) -> str:
        return self.to_text()

    def to_model_message(self) -> UserMessage:
        return UserMessage(content=self.to_text(), source=self.source)


class StructuredMessageFactoryConfig(BaseModel):
    """Spec of a :class:`StructuredMessageFactory`: the content model as JSON schema."""

    model_config = ConfigDict(defer_build=True)

    json_schema: dict[str, Any]
    format_string: str | None = None
    content_model_name: str


_JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "array": list[Any],
    "object": dict[str, Any],
}


def _model_from_schema(name: str, schema: Mapping[str, Any]) -> type[BaseModel]:
    """A flat pydantic model from a JSON schema (enough to reload dumped output types)."""
    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for field_name, prop in schema.get("properties", {}).items():
        py_type = _JSON_TYPES.get(prop.get("type", ""), Any)
        if field_name in required:
            fields[field_name] = (py_type, ...)
        else:
            fields[field_name] = (py_type | None, prop.get("default"))
    return cast("type[BaseModel]", create_model(name, **fields))


class StructuredMessageFactory(Component[StructuredMessageFactoryConfig]):
    """Makes ``StructuredMessage[Model]`` instances for an agent's ``output_content_type``."""

    component_type = "structured_message"
    component_config_schema = StructuredMessageFactoryConfig
    component_provider_override = "muster.messages.StructuredMessageFactory"

    def __init__(
        self,
        json_schema: dict[str, Any] | None = None,
        input_model: type[BaseModel] | None = None,
        format_string: str | None = None,
        content_model_name: str | None = None,
    ) -> None:
        if input_model is not None:
            self.ContentModel = input_model
        elif json_schema is not None:
            self.ContentModel = _model_from_schema(
                content_model_name or json_schema.get("title", "StructuredContent"), json_schema
            )
        else:
            raise ValueError("StructuredMessageFactory needs input_model or json_schema")
        self.format_string = format_string
        self.StructuredMessage: type[StructuredMessage[BaseModel]] = StructuredMessage[self.ContentModel]  # type: ignore[name-defined]

    def _to_config(self) -> StructuredMessageFactoryConfig:
        return StructuredMessageFactoryConfig(
            json_schema=self.ContentModel.model_json_schema(),
            format_string=self.format_string,
            content_model_name=self.ContentModel.__name__,
        )

    @classmethod
    def _from_config(cls, config: StructuredMessageFactoryConfig) -> Self:
        return cls(
            json_schema=config.json_schema,
            format_string=config.format_string,
            content_model_name=config.content_model_name,
        )
