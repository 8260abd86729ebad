"""Functions an executor makes importable by the code it runs, with the packages they need.

An executor given ``functions=[...]`` writes their source into a module in its working
directory, so generated code can ``from functions import load_data``. A function that
needs third-party packages or module-level imports says so with :func:`with_requirements`
(or :class:`FunctionWithRequirements` directly); a function known only as source text is
a :class:`FunctionWithRequirementsStr`.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

__all__ = [
    "Alias",
    "FunctionWithRequirements",
    "FunctionWithRequirementsStr",
    "Import",
    "ImportFromModule",
    "build_functions_module",
    "function_name",
    "function_stub",
    "required_packages",
    "with_requirements",
]

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class Alias:
    """An import under another name: ``Alias("pandas", "pd")`` is ``import pandas as pd``."""

    name: str
    alias: str


@dataclass(frozen=True)
class ImportFromModule:
    """A ``from module import a, b as c`` statement; names are strings or :class:`Alias`."""

    module: str
    imports: tuple[str | Alias, ...]

    def __init__(self, module: str, imports: Sequence[str | Alias]) -> None:
        # Frozen and hashable so imports shared by several functions are written once,
        # while still accepting the lists users naturally write.
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "imports", tuple(imports))


Import = str | ImportFromModule | Alias
"""One module-level import a function needs: a module name, an :class:`Alias` or an :class:`ImportFromModule`."""


def _import_statement(item: Import) -> str:
    if isinstance(item, str):
        return f"import {item}"
    if isinstance(item, Alias):
        return f"import {item.name} as {item.alias}"
    names = ", ".join(n if isinstance(n, str) else f"{n.name} as {n.alias}" for n in item.imports)
    return f"from {item.module} import {names}"


class FunctionWithRequirementsStr:
    """A function given as source text, with the packages and imports it needs.

    The text is compiled once here, so a syntax error or a text holding zero or several
    functions is reported when the function is declared, not when generated code first
    imports it inside the executor.

    Args:
        func: Source of exactly one top-level function.
        python_packages: pip requirements the function needs.
        global_imports: Module-level imports the function needs.

    Raises:
        ValueError: the text does not compile or does not define exactly one function.
    """

    def __init__(
        self, func: str, python_packages: Sequence[str] = (), global_imports: Sequence[Import] = ()
    ) -> None:
        self.func = func
        self.python_packages: Sequence[str] = list(python_packages)
        self.global_imports: Sequence[Import] = list(global_imports)
        module = types.ModuleType("_muster_function_source")
        try:
            exec(compile(func, "<function source>", "exec"), module.__dict__)  # noqa: S102 - the caller's own code
        except Exception as exc:
            raise ValueError(f"Could not compile function: {exc}") from exc
        # Functions imported by the text (``from os.path import join``) are not its own.
        defined = [
            value
            for value in vars(module).values()
            if inspect.isfunction(value) and value.__module__ == module.__name__
        ]
        if len(defined) != 1:
            raise ValueError(f"The string must contain exactly one function, found {len(defined)}")
        self.compiled_func: Callable[..., Any] = defined[0]
        self._func_name = self.compiled_func.__name__

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse: the function exists for the executed code, not for the host process."""
        raise NotImplementedError("String based function with requirement objects are not directly callable")


@dataclass
class FunctionWithRequirements(Generic[T, P]):
    """A Python function together with the pip packages and module-level imports it needs.

    Calling it calls the function, so decorating with :func:`with_requirements` keeps the
    function usable in the host process too.
    """

    func: Callable[P, T]
    python_packages: Sequence[str] = field(default_factory=list)
    global_imports: Sequence[Import] = field(default_factory=list)

    @classmethod
    def from_callable(
        cls, func: Callable[P, T], python_packages: Sequence[str] = (), global_imports: Sequence[Import] = ()
    ) -> FunctionWithRequirements[T, P]:
        """Wrap an existing function."""
        return cls(func=func, python_packages=list(python_packages), global_imports=list(global_imports))

    @staticmethod
    def from_str(
        func: str, python_packages: Sequence[str] = (), global_imports: Sequence[Import] = ()
    ) -> FunctionWithRequirementsStr:
        """Declare a function from its source text."""
        return FunctionWithRequirementsStr(func, python_packages, global_imports)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.func(*args, **kwargs)


def with_requirements(
    python_packages: Sequence[str] = (), global_imports: Sequence[Import] = ()
) -> Callable[[Callable[P, T]], FunctionWithRequirements[T, P]]:
    """Decorate a function with the packages and imports it needs inside an executor.

    Example::

        @with_requirements(python_packages=["pandas"], global_imports=[Alias("pandas", "pd")])
        def load_data() -> "pd.DataFrame":
            return pd.DataFrame({"a": [1, 2]})
    """

    def wrap(func: Callable[P, T]) -> FunctionWithRequirements[T, P]:
        return FunctionWithRequirements(
            func=func, python_packages=list(python_packages), global_imports=list(global_imports)
        )

    return wrap


FunctionLike = FunctionWithRequirements[Any, Any] | FunctionWithRequirementsStr | Callable[..., Any]
"""What an executor's ``functions=`` holds."""


def _function_source(func: FunctionLike) -> str:
    """The source of ``func`` without its decorators (they may not exist in the executor)."""
    if isinstance(func, FunctionWithRequirementsStr):
        return textwrap.dedent(func.func).strip("\n")
    target = _target(func)
    source = textwrap.dedent(inspect.getsource(target))
    tree = ast.parse(source)
    definition = tree.body[0]
    if not isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef):
        raise ValueError(f"{getattr(target, '__name__', target)!r} is not a function defined with def")
    # A def node's lineno is its ``def`` line; decorators (even multi-line ones) come before it.
    return "\n".join(source.splitlines()[definition.lineno - 1 :])


def build_functions_module(functions: Sequence[FunctionLike]) -> str:
    """Source of a module defining ``functions``, their shared imports first (each once)."""
    imports: dict[str, None] = {}
    for func in functions:
        if isinstance(func, FunctionWithRequirements | FunctionWithRequirementsStr):
            for item in func.global_imports:
                imports[_import_statement(item)] = None
    parts = ["\n".join(imports), *(_function_source(f) for f in functions)]
    return "\n\n\n".join(parts) + "\n"


def _target(func: FunctionLike) -> Callable[..., Any]:
    if isinstance(func, FunctionWithRequirementsStr):
        return func.compiled_func
    if isinstance(func, FunctionWithRequirements):
        return func.func
    return func


def function_name(func: FunctionLike) -> str:
    """The name generated code imports ``func`` by."""
    return _target(func).__name__


def function_stub(func: FunctionLike) -> str:
    """A ``def`` line and docstring with ``...`` as body, to show a model what it may call."""
    target = _target(func)
    stub = f"def {target.__name__}{inspect.signature(target)}:\n"
    doc = inspect.getdoc(target)
    if doc:
        stub += textwrap.indent(f'"""{doc}"""', "    ") + "\n"
    return stub + "    ..."


def required_packages(functions: Sequence[FunctionLike]) -> list[str]:
    """The pip requirements of ``functions``, each once, in first-seen order."""
    packages: dict[str, None] = {}
    for func in functions:
        if isinstance(func, FunctionWithRequirements | FunctionWithRequirementsStr):
            packages.update(dict.fromkeys(func.python_packages))
    return list(packages)
