"""Running code: blocks, results and the executor contract (AutoGen: ``autogen_core.code_executor``).

This package holds what every executor shares; concrete executors live in
:mod:`muster.code_executors` (``muster.code_executors.local.LocalCommandLineCodeExecutor``),
and :class:`muster.agents.CodeExecutorAgent` drives them from a conversation. Names load
their module on first access (see ``muster.core.internal``): ``muster.messages`` needs only
``CodeBlock`` and ``CodeResult``, not the function-shipping machinery.
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports, register_provider_alias

if TYPE_CHECKING:
    from ._base import CodeExecutor
    from ._func_with_reqs import (
        Alias,
        FunctionWithRequirements,
        FunctionWithRequirementsStr,
        Import,
        ImportFromModule,
        with_requirements,
    )
    from ._types import CodeBlock, CodeResult

__all__ = [
    "Alias",
    "CodeBlock",
    "CodeExecutor",
    "CodeResult",
    "FunctionWithRequirements",
    "FunctionWithRequirementsStr",
    "Import",
    "ImportFromModule",
    "with_requirements",
]

_EXPORTS = {
    "Alias": "._func_with_reqs",
    "CodeBlock": "._types",
    "CodeExecutor": "._base",
    "CodeResult": "._types",
    "FunctionWithRequirements": "._func_with_reqs",
    "FunctionWithRequirementsStr": "._func_with_reqs",
    "Import": "._func_with_reqs",
    "ImportFromModule": "._func_with_reqs",
    "with_requirements": "._func_with_reqs",
}
"""Public name -> sub-module that defines it; imported on first access (see ``muster.core.internal``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

# AutoGen specs name executors by their autogen_ext path. Registered here, not in the
# executor's module, so a spec loads before anything imported muster.code_executors
# (this package is imported by muster.messages, hence by every agent).
register_provider_alias(
    "autogen_ext.code_executors.local.LocalCommandLineCodeExecutor",
    "muster.code_executors.local.LocalCommandLineCodeExecutor",
)
