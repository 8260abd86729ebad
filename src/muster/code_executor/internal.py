"""What executors need to ship user functions to the code they run; not part of the user API.

Each package's ``internal`` module is its contract with the rest of muster (see
docs/architecture.md, "Imports between packages"): machinery with no AutoGen counterpart,
so it stays out of ``muster.code_executor.__all__`` and may change without notice.
"""

from typing import TYPE_CHECKING

from muster.core.internal import lazy_exports

if TYPE_CHECKING:
    from ._func_with_reqs import (
        FunctionLike,
        build_functions_module,
        function_name,
        function_stub,
        required_packages,
    )

__all__ = ["FunctionLike", "build_functions_module", "function_name", "function_stub", "required_packages"]

_EXPORTS = {
    "FunctionLike": "muster.code_executor._func_with_reqs",
    "build_functions_module": "muster.code_executor._func_with_reqs",
    "function_name": "muster.code_executor._func_with_reqs",
    "function_stub": "muster.code_executor._func_with_reqs",
    "required_packages": "muster.code_executor._func_with_reqs",
}
"""Name -> sub-module that defines it; imported on first access (see ``lazy_exports``)."""

if not TYPE_CHECKING:  # hidden from mypy, which sees the imports above; a typo stays an error
    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
