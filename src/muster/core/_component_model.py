"""ComponentModel: the serialised form of a component (a spec).

In a module of its own, defined by the first dump or load: a plain run never writes or reads
a spec, and defining a pydantic class costs about 0.2 ms of every process's start-up
(docs/performance.md, "Start-up").
"""

from typing import Any

from pydantic import BaseModel, ConfigDict

from ._component_config import ComponentType

__all__ = ["ComponentModel"]


class ComponentModel(BaseModel):
    """The serialised form of a component."""

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    provider: str
    """Import path of the class, ``"package.module.ClassName"``."""
    component_type: ComponentType | None = None
    """The logical kind (model, agent, tool...), checked when a caller expects one."""
    version: int | None = None
    """Version of the spec format."""
    component_version: int | None = None
    """Version of this component's config schema, for migrations."""
    description: str | None = None
    """Human-readable description."""
    label: str | None = None
    """Short display name."""
    config: dict[str, Any]
    """Validated against the component's ``component_config_schema`` when loaded."""
