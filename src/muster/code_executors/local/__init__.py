"""Run code on this machine (AutoGen: ``autogen_ext.code_executors.local``).

Not a sandbox: see :class:`LocalCommandLineCodeExecutor` before running model-written code.
"""

from ._executor import LocalCommandLineCodeExecutor, LocalCommandLineCodeExecutorConfig

__all__ = ["LocalCommandLineCodeExecutor", "LocalCommandLineCodeExecutorConfig"]
