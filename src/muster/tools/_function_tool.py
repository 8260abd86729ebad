"""FunctionTool: any typed Python function as a tool, its schema read from the signature."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, Self

from pydantic import BaseModel, ConfigDict

from ..core import CancellationToken, Component
from ..core.internal import scoped_link
from ._base import BaseTool
from ._function_source import function_import_path, function_source, load_from_import_path, load_from_source
from ._imports import Import
from ._signature import callable_name, plan_call

__all__ = ["FunctionTool", "FunctionToolConfig"]


async def _linked(token: CancellationToken, future: asyncio.Future[Any]) -> Any:
    """Await ``future``, cancelling it with ``token``; the token keeps nothing once this returns."""
    unlink = scoped_link(token, future)
    try:
        return await future
    finally:
        unlink()


class FunctionToolConfig(BaseModel):
    """Declarative config of a :class:`FunctionTool`.

    A spec holds the function by ``import_path`` when it is importable (nothing is
    executed on load) and by ``source_code`` otherwise or as a fallback. Loading
    ``source_code`` executes it: only load specs from trusted sources.
    """

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    source_code: str = ""
    """The function's source, executed on load when ``import_path`` is absent or fails."""
    name: str
    """The tool name."""
    description: str
    """The tool description."""
    global_imports: list[Import] = []
    """Imports the source needs, executed before it."""
    has_cancellation_support: bool = False
    """Whether the function takes the cancellation token (informational; re-read on load)."""
    import_path: str | None = None
    """``"package.module:qualified.name"`` (muster addition); preferred over ``source_code``."""
    strict: bool = False
    """Strict schema mode (muster addition; AutoGen does not keep it)."""


class FunctionTool(BaseTool[BaseModel, Any], Component[FunctionToolConfig]):
    """Wrap a typed Python function (sync or async) as a tool.

    The arguments model is built once from the signature: annotations give the types,
    defaults stay defaults (``x: str = None`` is read as optional), and a string in
    ``Annotated[T, "..."]`` describes the parameter to the model. A parameter named
    ``cancellation_token`` or annotated :class:`~muster.core.CancellationToken` receives
    the call's token instead of a model argument. Bound methods work (``self`` is already
    bound), as do ``functools.partial`` objects and objects with a typed ``__call__``.

    Async functions run on the event loop and are cancelled when the token is; sync
    functions run in a worker thread (``asyncio.to_thread``) so they cannot block the loop.
    A cancelled sync call stops being awaited, but Python cannot stop the thread itself:
    functions that take the token can check ``is_cancelled()`` to stop early.

    Args:
        func: The function.
        description: What the tool does, for the model. AssistantAgent passes the
            docstring when given a bare function.
        name: The tool name; the function's name by default.
        global_imports: Imports the function's body needs, kept for dumping as source.
        strict: Strict schema mode: no defaults allowed (see :class:`BaseTool`).

    Raises:
        ToolDefinitionError: a parameter lacks an annotation or its types cannot be
            turned into a schema.
    """

    component_provider_override = "muster.tools.FunctionTool"
    component_config_schema = FunctionToolConfig

    def __init__(
        self,
        func: Callable[..., Any],
        description: str,
        name: str | None = None,
        global_imports: Sequence[Import] = (),
        strict: bool = False,
    ) -> None:
        self._func = func
        self._global_imports = list(global_imports)
        tool_name = name or callable_name(func)
        self._plan = plan_call(func, tool_name)
        self._has_cancellation_support = self._plan.token_param is not None
        super().__init__(self._plan.args_model, self._plan.return_type, tool_name, description, strict)

    async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> Any:
        """Call the function with validated arguments; async functions are cancelled with the token."""
        positional, keyword = self._plan.arguments(args)
        if self._plan.token_param is not None:
            keyword[self._plan.token_param] = cancellation_token
        future: asyncio.Future[Any]
        if self._plan.is_async:
            future = asyncio.ensure_future(self._func(*positional, **keyword))
        else:
            future = asyncio.ensure_future(
                asyncio.to_thread(functools.partial(self._func, *positional, **keyword))
            )
        result = await _linked(cancellation_token, future)
        if inspect.isawaitable(result):
            # A sync wrapper that returns a coroutine (an undecorated async factory): finish it here.
            result = await _linked(cancellation_token, asyncio.ensure_future(result))
        return result

    def _to_config(self) -> FunctionToolConfig:
        import_path = function_import_path(self._func)
        source = function_source(self._func)
        if import_path is None and source is None:
            raise TypeError(
                f"FunctionTool {self.name!r} cannot be dumped: its function is neither importable "
                "(module-level, outside __main__) nor a plain function with readable source "
                "(bound methods, partials, lambdas and builtins have none)"
            )
        return FunctionToolConfig(
            source_code=source or "",
            name=self.name,
            description=self.description,
            global_imports=self._global_imports,
            has_cancellation_support=self._has_cancellation_support,
            import_path=import_path,
            strict=self._strict,
        )

    @classmethod
    def _from_config(cls, config: FunctionToolConfig) -> Self:
        """Rebuild the tool: import the function by path, else execute its source (trusted specs only)."""
        func: Callable[..., Any] | None = None
        if config.import_path:
            func = load_from_import_path(config.import_path, fallback_available=bool(config.source_code))
        if func is None:
            func = load_from_source(config.source_code, config.global_imports, config.name)
        return cls(
            func,
            description=config.description,
            name=config.name,
            global_imports=config.global_imports,
            strict=config.strict,
        )
