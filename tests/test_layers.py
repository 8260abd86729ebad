"""The import rules of docs/architecture.md.

A package imports only from layers above it ("Layers"), and only through another package's
public names, never its private modules ("Imports between packages"). Relative imports
(``from ..teams import x``) are resolved to their absolute module and checked like absolute ones.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from dataclasses import dataclass
from importlib.util import resolve_name
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "muster"

# Lower number = higher layer. A module may import only packages with a number <= its own.
LAYER: dict[str, int] = {
    "core": 0, "code_executor": 0, "_version": 0,
    "models": 1, "model_context": 1, "memory": 1, "cache_store": 1, "code_executors": 1,
    "tools": 2,
    "messages": 3, "base": 3, "state": 3, "agents": 3, "utils": 3,
    "conditions": 4, "teams": 4,
    "ui": 5, "cli": 5,
    "ops": 6, "service": 6,
}  # fmt: skip

# Lazy re-exports allowed by docs/architecture.md (inside functions / module __getattr__ only).
ALLOWED_LAZY = {("tools", "agents"), ("tools", "teams"), ("cli", "ops"), ("cli", "service")}

# (importing module, private module of another package) pairs allowed by docs/architecture.md.
ALLOWED_PRIVATE = {
    # AgentTool / TeamTool are public only as muster.tools.AgentTool / TeamTool (AutoGen's
    # home), but implemented in agents and teams, below tools in the layer order. The lazy
    # table in muster.tools names their defining modules: no public module of agents or teams
    # carries them, and giving them one would add a name AutoGen's agents/teams lack.
    ("muster.tools", "muster.agents._agent_tool"),
    ("muster.tools", "muster.teams._team_tool"),
    # The root package installs AutoGen's logger names over muster's on import (a one-time
    # side effect, not a name other packages use); _logging belongs to no layer package.
    ("muster", "muster._logging"),
    ("muster", "muster._logging.bridge_autogen_logger_names"),
}

# A string that is exactly a dotted muster path, as in lazy-export tables ("muster.core._lazy").
_DOTTED_PATH = re.compile(r"muster(\.[A-Za-z_]\w*)+")


@dataclass(frozen=True)
class ImportRef:
    """One name a module imports from muster, resolved to an absolute dotted path."""

    target: str
    """``muster.pkg.mod`` for ``import``, ``muster.pkg.mod.name`` for ``from muster.pkg.mod import name``."""
    line: int
    module_level: bool
    type_checking: bool
    """Inside a module-level ``if TYPE_CHECKING:`` block."""
    is_string: bool = False
    """A dotted path in a string constant (a lazy-export table), not an import statement."""

    @property
    def package(self) -> str:
        """The package under ``muster`` the import reaches (``core`` for ``muster.core._lazy``)."""
        parts = self.target.split(".")
        return parts[1] if len(parts) > 1 else ""


def module_name(path: Path) -> tuple[str, bool]:
    """Dotted module name of a file under ``src/muster`` and whether it is a package ``__init__``."""
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def package_of(module: str) -> str:
    """First component under ``muster`` (``models`` for ``muster.models.openai._client``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    """Absolute module of ``from <level dots><module> import ...`` written in ``importer``."""
    if level == 0:
        return module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if level - 1 >= len(base):
        raise ValueError(f"relative import beyond the top-level package in {importer}")
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def muster_imports(source: str, importer: str, is_package: bool) -> list[ImportRef]:
    """Every muster import in ``source``: absolute or relative, anywhere in the module."""
    tree = ast.parse(source)
    module_level = {id(node) for node in tree.body}
    type_checking: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_checking.update(id(inner) for inner in ast.walk(node))
    found: list[ImportRef] = []
    for node in ast.walk(tree):
        targets: list[str] = []
        is_string = False
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(importer, is_package, node.level, node.module)
            # ``from muster import teams`` and ``from ..core import _lazy`` name modules too.
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if _DOTTED_PATH.fullmatch(node.value):
                targets, is_string = [node.value], True
        for target in targets:
            if target.split(".")[0] == "muster" and "." in target:
                found.append(
                    ImportRef(
                        target,
                        getattr(node, "lineno", 0),
                        id(node) in module_level,
                        id(node) in type_checking,
                        is_string,
                    )
                )
    return found


def layer_violations(source: str, importer: str, is_package: bool = False) -> list[str]:
    """Imports in ``source`` of a package below ``importer``'s layer."""
    pkg = package_of(importer)
    violations: set[str] = set()
    for ref in muster_imports(source, importer, is_package):
        if ref.is_string or ref.type_checking or pkg not in LAYER:
            continue
        imported = ref.package
        if imported not in LAYER or LAYER[imported] <= LAYER[pkg]:
            continue
        if not ref.module_level and (pkg, imported) in ALLOWED_LAZY:
            continue
        violations.add(f"{importer} (line {ref.line}) imports muster.{imported}")
    return sorted(violations)


def _is_private(segment: str) -> bool:
    return segment.startswith("_") and not (segment.startswith("__") and segment.endswith("__"))


def private_import_violations(source: str, importer: str, is_package: bool = False) -> list[str]:
    """Imports in ``source`` of a private module (or name) of another muster package."""
    pkg = package_of(importer)
    first_private: dict[int, str] = {}  # line -> shortest private path imported there
    for ref in muster_imports(source, importer, is_package):
        if ref.package == pkg or not any(_is_private(part) for part in ref.target.split(".")[1:]):
            continue
        if (importer, ref.target) in ALLOWED_PRIVATE:
            continue
        if ref.line not in first_private or len(ref.target) < len(first_private[ref.line]):
            first_private[ref.line] = ref.target
    return [f"{importer} (line {line}) imports {target}" for line, target in sorted(first_private.items())]


def _sources() -> list[tuple[str, str, bool]]:
    return [(path.read_text(encoding="utf-8"), *module_name(path)) for path in sorted(SRC.rglob("*.py"))]


def test_no_module_imports_a_lower_layer() -> None:
    violations = [v for source, name, is_pkg in _sources() for v in layer_violations(source, name, is_pkg)]
    assert not violations, "layer violations:\n" + "\n".join(violations)


def test_no_module_imports_a_private_module_of_another_package() -> None:
    violations = [
        v for source, name, is_pkg in _sources() for v in private_import_violations(source, name, is_pkg)
    ]
    assert not violations, (
        "import these through the package or its internal module (docs/architecture.md):\n"
        + "\n".join(violations)
    )


def test_every_allowed_private_import_is_still_needed() -> None:
    seen = {
        (name, ref.target)
        for source, name, is_pkg in _sources()
        for ref in muster_imports(source, name, is_pkg)
    }
    assert ALLOWED_PRIVATE <= seen, f"stale allow-list entries: {sorted(ALLOWED_PRIVATE - seen)}"


# The checkers themselves, on planted violations.


@pytest.mark.parametrize(
    ("importer", "is_package", "level", "module", "expected"),
    [
        ("muster.tools._base", False, 2, "core._lazy", "muster.core._lazy"),
        ("muster.tools._base", False, 1, "_result", "muster.tools._result"),
        ("muster.tools", True, 1, "_result", "muster.tools._result"),
        ("muster.tools", True, 2, None, "muster"),
        ("muster.teams._graph._digraph", False, 3, "agents", "muster.agents"),
        ("muster.teams._graph", True, 2, "_group_chat", "muster.teams._group_chat"),
        ("muster.teams._graph", True, 3, "agents", "muster.agents"),
        ("muster.models", False, 0, "muster.core", "muster.core"),
    ],
)
def test_relative_imports_resolve_to_absolute_modules(
    importer: str, is_package: bool, level: int, module: str | None, expected: str
) -> None:
    assert resolve(importer, is_package, level, module) == expected


def test_resolution_matches_python_for_every_relative_import_in_src() -> None:
    checked = 0
    for source, name, is_pkg in _sources():
        package = name if is_pkg else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.level:
                relative = "." * node.level + (node.module or "")
                assert resolve(name, is_pkg, node.level, node.module) == resolve_name(relative, package)
                checked += 1
    assert checked  # muster.tools imports relatively; the check must not be vacuous


@pytest.mark.parametrize(
    "source",
    [
        "from muster.teams import RoundRobinGroupChat",
        "import muster.teams",
        "from ..teams import RoundRobinGroupChat",
        "from .. import teams",
        "from ..teams._group_chat import x",
        "def f():\n    from ..agents import AssistantAgent",
    ],
)
def test_layer_check_catches_a_planted_violation(source: str) -> None:
    assert layer_violations(source, "muster.models._fake") != []


def test_layer_check_resolves_relative_imports_in_a_package_init() -> None:
    assert layer_violations("from ..teams import x", "muster.models", is_package=True) != []
    assert layer_violations("from ..core import x", "muster.models", is_package=True) == []


@pytest.mark.parametrize(
    "source",
    [
        "from ..core import CancellationToken",
        "from ._types import LLMMessage",
        "from .. import TRACE_LOGGER_NAME",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..teams import x",
        "_LAZY = {'X': 'muster.teams._team_tool'}",  # strings are checked for privacy, not layers
    ],
)
def test_layer_check_accepts_upward_imports(source: str) -> None:
    assert layer_violations(source, "muster.models._fake") == []


def test_layer_check_allows_the_documented_lazy_imports_only_inside_functions() -> None:
    lazy = "def __getattr__(name):\n    from ..agents import AgentTool\n"
    assert layer_violations(lazy, "muster.tools", is_package=True) == []
    assert layer_violations("from ..agents import AgentTool", "muster.tools", is_package=True) != []


@pytest.mark.parametrize(
    "source",
    [
        "from muster.core._lazy import lazy_exports",
        "import muster.core._lazy",
        "from ..core._tool_protocol import Tool",
        "from ..core import _lazy",
        "from .._private_pkg.thing import x",
        "from muster.code_executors.local._executor import LocalCommandLineCodeExecutor",
        "def f():\n    from ..models._types import LLMMessage",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from muster.base._saved_state import StatePlan",
        "_EXPORTS = {'lazy_exports': 'muster.core._lazy'}",
    ],
)
def test_private_import_check_catches_a_planted_violation(source: str) -> None:
    assert private_import_violations(source, "muster.tools._fake") != []


@pytest.mark.parametrize(
    "source",
    [
        "from ._base import BaseTool",
        "from muster.tools._base import BaseTool",
        "from muster.core import CancellationToken",
        "from ..core.internal import lazy_exports",
        "from muster import __version__",
        "from .. import TRACE_LOGGER_NAME",
        '"""Lazily exported; see ``muster.core._lazy``."""',
        "_LAZY = {'AgentTool': 'muster.agents._agent_tool'}",  # the documented exception
    ],
)
def test_private_import_check_accepts_public_names_and_own_modules(source: str) -> None:
    importer, is_package = ("muster.tools", True) if "_LAZY" in source else ("muster.tools._fake", False)
    assert private_import_violations(source, importer, is_package) == []


@pytest.mark.parametrize(
    "module", ["muster.agents", "muster.teams", "muster.core", "muster.models", "muster.tools", "muster.ui"]
)
def test_importing_the_framework_pulls_in_no_optional_backend(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "heavy = [m for m in ('openai', 'anthropic', 'redis', 'psutil', 'yaml', 'diskcache', 'sqlalchemy',"
        " 'fastapi', 'tiktoken', 'opentelemetry', 'httpx', 'mcp', 'ollama', 'rich') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import {module} loaded optional backends: {out.stdout.strip()}"
