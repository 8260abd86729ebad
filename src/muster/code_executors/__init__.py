"""Concrete code executors (AutoGen: ``autogen_ext.code_executors``).

``muster.code_executors.local`` runs code in child processes on the host. The executor
contract and the code block/result types are in :mod:`muster.code_executor`.
"""

from ._common import CommandLineCodeResult

__all__ = ["CommandLineCodeResult"]
