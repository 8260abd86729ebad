"""The layer rule of docs/architecture.md: a package imports only from layers above it."""

from __future__ import annotations

import ast
import subprocess
import sys
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
ALLOWED_LAZY = {("tools", "agents"), ("tools", "teams")}


def _package_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if rel.parts else ""


def _top_level_imports(tree: ast.Module) -> list[tuple[str, bool]]:
    """(imported muster package, is_module_level) for every muster import."""
    found: list[tuple[str, bool]] = []
    module_level = {id(node) for node in tree.body}
    type_checking_blocks: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in ast.walk(node):
                type_checking_blocks.add(id(inner))
    for node in ast.walk(tree):
        if id(node) in type_checking_blocks:
            continue
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "muster" and len(parts) > 1:
                found.append((parts[1], id(node) in module_level))
    return found


def test_no_module_imports_a_lower_layer() -> None:
    violations = []
    for path in SRC.rglob("*.py"):
        pkg = _package_of(path)
        if pkg not in LAYER:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for imported, module_level in _top_level_imports(tree):
            if imported not in LAYER or LAYER[imported] <= LAYER[pkg]:
                continue
            if not module_level and (pkg, imported) in ALLOWED_LAZY:
                continue
            violations.append(f"{path.relative_to(SRC)} imports muster.{imported}")
    assert not violations, "layer violations:\n" + "\n".join(sorted(violations))


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
