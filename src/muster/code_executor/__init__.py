"""Running code: blocks, results and the executor contract (AutoGen: ``autogen_core.code_executor``).

This package holds what every executor shares; concrete executors live in
:mod:`muster.code_executors` (``muster.code_executors.local.LocalCommandLineCodeExecutor``),
and :class:`muster.agents.CodeExecutorAgent` drives them from a conversation.
"""

from muster.core.internal import register_provider_alias

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

# AutoGen specs name executors by their autogen_ext path. Registered here, not in the
# executor's module, so a spec loads before anything imported muster.code_executors
# (this package is imported by muster.messages, hence by every agent).
register_provider_alias(
    "autogen_ext.code_executors.local.LocalCommandLineCodeExecutor",
    "muster.code_executors.local.LocalCommandLineCodeExecutor",
)
