"""Finding a function again after a dump: by import path, or by executing its source.

Executing source code runs arbitrary code, so :func:`load_from_source` warns every time;
import paths are preferred whenever the function lives at module level.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import sys
import textwrap
import typing
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ..core import CancellationToken
from ..core.exceptions import ComponentLoadError
from ._imports import Import, import_to_str

__all__ = ["function_import_path", "function_source", "load_from_import_path", "load_from_source"]

SOURCE_WARNING = (
    "Loading a FunctionTool from source code executes that code and its global imports. "
    "Only load component specs from trusted sources."
)


def _resolve(module_name: str, qualname: str) -> Any:
    module = sys.modules.get(module_name) or importlib.import_module(module_name)
    obj: Any = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def function_import_path(func: Any) -> str | None:
    """``"module:qualname"`` when importing it gives back this very object, else ``None``.

    Bound methods and partials carry state an import cannot restore; functions in
    ``__main__`` or defined inside other functions cannot be imported elsewhere.
    """
    if isinstance(func, functools.partial) or inspect.ismethod(func):
        return None
    module_name = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return None
    if module_name == "__main__" or "<" in qualname:
        return None
    try:
        found = _resolve(module_name, qualname)
    except (ImportError, AttributeError):
        return None
    return f"{module_name}:{qualname}" if found is func else None


def function_source(func: Any) -> str | None:
    """The dedented source of a plain function, or ``None`` when it has none that can be re-executed."""
    if not inspect.isfunction(func) or func.__name__ == "<lambda>":
        return None
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        return None
    return source if _find_function_name(source, func.__name__) == func.__name__ else None


def _find_function_name(source: str, preferred: str) -> str | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    names = [node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    if preferred in names:
        return preferred
    return names[0] if names else None


def load_from_import_path(path: str, fallback_available: bool) -> Callable[..., Any] | None:
    """Import ``"module:qualname"``.

    Returns ``None`` when the import fails and source code is there to fall back on.

    Raises:
        ComponentLoadError: the path is malformed, or the import fails with no fallback,
            or it names something that is not callable.
    """
    module_name, sep, qualname = path.partition(":")
    if not sep or not module_name or not qualname:
        raise ComponentLoadError(f"import_path {path!r}: expected 'package.module:function'")
    try:
        func = _resolve(module_name, qualname)
    except (ImportError, AttributeError) as exc:
        if fallback_available:
            return None
        raise ComponentLoadError(f"import_path {path!r} cannot be imported: {exc}") from exc
    if not callable(func):
        raise ComponentLoadError(f"import_path {path!r} names a {type(func).__name__}, not a function")
    return func  # type: ignore[no-any-return]


def load_from_source(source: str, global_imports: Sequence[Import], name: str) -> Callable[..., Any]:
    """Execute ``global_imports`` then ``source`` and return the function they define.

    Picks the top-level function called ``name`` if there is one, else the first. The
    namespace starts with ``Annotated``, ``Any``, ``Literal``, ``Optional``, ``Union`` and
    ``CancellationToken`` so common signatures resolve without listing them.

    Raises:
        ComponentLoadError: an import fails, the source does not compile or run, or it
            defines no function.
    """
    warnings.warn(SOURCE_WARNING, UserWarning, stacklevel=4)
    function_name = _find_function_name(source, name)
    if function_name is None:
        raise ComponentLoadError("source_code defines no top-level function (or does not parse)")
    # Signatures lean on these names constantly and a spec rarely lists them; explicit
    # global_imports still run afterwards and win.
    namespace: dict[str, Any] = {
        "__name__": f"muster_function_tool_{function_name}",
        "Annotated": typing.Annotated,
        "Any": typing.Any,
        "Literal": typing.Literal,
        "Optional": typing.Optional,
        "Union": typing.Union,
        "CancellationToken": CancellationToken,
    }
    for statement in global_imports:
        code = import_to_str(statement)
        try:
            exec(code, namespace)
        except Exception as exc:
            raise ComponentLoadError(f"global import {code!r} failed: {exc}") from exc
    try:
        exec(compile(source, f"<FunctionTool {function_name}>", "exec"), namespace)
    except Exception as exc:
        raise ComponentLoadError(f"source_code of {function_name!r} failed to run: {exc}") from exc
    func = namespace.get(function_name)
    if not callable(func):
        raise ComponentLoadError(f"source_code does not define a callable {function_name!r}")
    return func  # type: ignore[no-any-return]
