"""``SerializeAsAny`` without loading ``pydantic.functional_serializers``.

``TaskResult.messages`` holds subclasses of the message bases, and must dump each with its own
fields (pydantic's ``SerializeAsAny``, as in AutoGen). Importing pydantic's marker loads
``pydantic.functional_serializers``, whose serializer dataclasses cost about 1.5 ms of every
process's start-up, while a plain run never dumps a result. This marker sets the same
``any`` serialisation on the field's schema, the whole of what pydantic's does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, cast

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = ["SerializeAsAny"]


class SerializeAsAny:
    """Annotation: serialise the value by its own class, not the declared one (duck typing).

    ``SerializeAsAny[T]`` is ``Annotated[T, SerializeAsAny()]``, as with pydantic's.
    """

    __slots__ = ()

    def __class_getitem__(cls, item: Any) -> Any:
        return Annotated[item, cls()]

    def __get_pydantic_core_schema__(self, source_type: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        schema = handler(source_type)
        target: dict[str, Any] = cast("dict[str, Any]", schema)
        while target["type"] == "definitions":
            target = target.copy()
            target = target["schema"]
        target["serialization"] = core_schema.simple_ser_schema("any")
        return schema
