"""Two pydantic features muster uses without their start-up cost: trusted construction and ``SerializeAsAny``.

Both are on every run's path, so they share a module rather than each costing one more to
load (docs/performance.md, "Start-up").

**Trusted construction**: building muster's own pydantic models from values that are already
valid, without validating. An agent turn makes half a dozen messages from values muster itself just produced and typed
(a ``TextMessage`` from the model's string reply, a ``TaskResult`` from a list of messages).
Validating them again proves nothing, and the first validation of a class costs its whole
schema build, plus, for the first class of the process, pydantic's plugin discovery
(``importlib.metadata`` and a scan of every installed distribution's entry points): 25-30 ms
of a cold start, for checks that cannot fail. :func:`construct_trusted` makes the same object
validation would make, without touching the validator, so a plain agent run builds no schema;
the schemas are built when something needs them (``model_dump``, ``model_validate``, a user's
own ``TextMessage(...)``).

It is pydantic's ``model_construct`` specialised for the classes it serves: the per-class work
(which fields have defaults, which defaults must be copied) is done once, so a construction
costs about what a validation costs once built, and far less than ``model_construct``. Classes
with anything validation would run (validators, aliases, private attributes, a post-init hook,
extra fields) are validated as usual instead, so the shortcut never changes a result;
``tests/core/test_trusted.py`` compares both ways field by field.

**SerializeAsAny**: ``TaskResult.messages`` holds subclasses of the message bases, and must dump
each with its own fields (pydantic's ``SerializeAsAny``, as in AutoGen). Importing pydantic's
marker loads ``pydantic.functional_serializers``, whose serializer dataclasses cost about
1.5 ms of every process's start-up, while a plain run never dumps a result. This marker sets
the same ``any`` serialisation on the field's schema, the whole of what pydantic's does.
"""

from __future__ import annotations

import copy
import enum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = ["SerializeAsAny", "construct_trusted"]

M = TypeVar("M", bound=BaseModel)

_REQUIRED = 0
_SHARED = 1
"""A default that is immutable: every instance holds the same object, as after validation."""
_COPIED = 2
"""A mutable default (``{}``, ``[]``): each instance gets its own copy, as after validation."""
_FACTORY = 3

_Field = tuple[str, int, Any]
_IMMUTABLE = (type(None), str, int, float, bool, bytes, enum.Enum, frozenset)

_plans: dict[type[BaseModel], tuple[_Field, ...] | None] = {}
"""Per class: how to fill each field, in field order; ``None`` when it must be validated."""

_set = object.__setattr__


def _plan(cls: type[BaseModel]) -> tuple[_Field, ...] | None:
    decorators = cls.__pydantic_decorators__
    if (
        cls.__pydantic_root_model__
        or cls.__pydantic_post_init__ is not None
        or cls.__private_attributes__
        or cls.model_config.get("extra") == "allow"
        or cls.model_config.get("validate_default")
        or decorators.validators
        or decorators.field_validators
        or decorators.root_validators
        or decorators.model_validators
    ):
        return None
    fields: list[_Field] = []
    for name, info in cls.__pydantic_fields__.items():
        if info.alias is not None or info.validation_alias is not None or info.validate_default:
            return None
        factory = info.default_factory
        if factory is not None:
            if getattr(info, "default_factory_takes_data", False):
                return None
            fields.append((name, _FACTORY, factory))
        elif info.default is PydanticUndefined:
            fields.append((name, _REQUIRED, None))
        elif isinstance(info.default, _IMMUTABLE):
            fields.append((name, _SHARED, info.default))
        elif type(info.default) in (dict, list, set) and not info.default:
            fields.append((name, _FACTORY, type(info.default)))  # a fresh empty one, cheaply
        else:
            fields.append((name, _COPIED, info.default))
    return tuple(fields)


def construct_trusted(cls: type[M], /, **values: Any) -> M:
    """``cls(**values)`` for values that already have their fields' types, without validating.

    The caller vouches for the values: each has its field's type, and containers are not
    shared with anyone who could change them (validation would have copied them). Fields
    left out get their defaults; ``model_fields_set`` is the names given, as after validation.

    Raises:
        TypeError: a required field is missing or a name is not a field (the caller's bug;
            validation would have raised a ``ValidationError`` or dropped the name).
    """
    plan = _plans.get(cls, ())
    if plan == ():
        plan = _plans[cls] = _plan(cls)
    if plan is None:
        return cls(**values)
    data: dict[str, Any] = {}
    given = 0
    for name, how, default in plan:
        if name in values:
            data[name] = values[name]
            given += 1
        elif how == _SHARED:
            data[name] = default
        elif how == _FACTORY:
            data[name] = default()
        elif how == _COPIED:
            data[name] = copy.deepcopy(default)
        else:
            raise TypeError(f"{cls.__name__}: missing required field {name!r}")
    if given != len(values):
        unknown = sorted(set(values) - set(data))
        raise TypeError(f"{cls.__name__}: unknown fields {unknown}")
    obj = cls.__new__(cls)
    _set(obj, "__dict__", data)
    _set(obj, "__pydantic_fields_set__", set(values))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


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
            target = target["schema"]
        target["serialization"] = core_schema.simple_ser_schema("any")
        return schema
