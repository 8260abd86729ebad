"""LocalCommandLineCodeExecutor: runs code blocks as scripts in child processes on this machine."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import warnings
import weakref
from collections.abc import Sequence
from hashlib import sha256
from pathlib import Path
from string import Template
from types import SimpleNamespace
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict

from muster import TRACE_LOGGER_NAME
from muster.code_executor import CodeBlock, CodeExecutor
from muster.code_executor.exceptions import CodeExecutionConfigError, FunctionSetupError
from muster.code_executor.internal import (
    FunctionLike,
    build_functions_module,
    function_name,
    function_stub,
    required_packages,
)
from muster.core import CancellationToken, Component

from .._common import (
    PYTHON_ALIASES,
    SHELL_LANGUAGES,
    CommandLineCodeResult,
    file_extension,
    file_name_from_content,
    shell_command,
    silence_pip,
)
from ._process import run_process

__all__ = ["LocalCommandLineCodeExecutor", "LocalCommandLineCodeExecutorConfig"]

logger = logging.getLogger(TRACE_LOGGER_NAME)

TIMEOUT_EXIT_CODE = 124
"""Reported when a block outlives ``timeout`` (the exit status of coreutils ``timeout``)."""
CANCELLED_EXIT_CODE = 125
"""Reported when the cancellation token stopped the execution."""
NOT_FOUND_EXIT_CODE = 127
"""Reported when the interpreter does not exist (the shell's "command not found" status)."""


class LocalCommandLineCodeExecutorConfig(BaseModel):
    """The declarative spec of a LocalCommandLineCodeExecutor (AutoGen's fields).

    Functions and a virtual environment are live Python objects and are not part of it.
    """

    # Schema built on first use, not at import: see docs/performance.md, "Import time".
    model_config = ConfigDict(defer_build=True)

    timeout: int = 60
    work_dir: str | None = None
    """None: a private temporary directory, created on first use and removed by ``stop``."""
    functions_module: str = "functions"
    cleanup_temp_files: bool = True


class LocalCommandLineCodeExecutor(CodeExecutor, Component[LocalCommandLineCodeExecutorConfig]):
    """Runs each code block as a script file in a child process on the host.

    .. warning::
        This is not a sandbox. The code runs with your user's permissions, environment
        variables and network access, and can read, change or delete anything you can.
        Only run model-written code this way on a machine (or container) you are willing
        to lose, and give the agent an ``approval_func`` to review code first.

    Each block is written to a file in ``work_dir`` (named after a hash of its code, or
    after a ``# filename: name`` first line, which must stay inside ``work_dir``) and run
    with the current Python interpreter (``python``, ``py``) or the matching shell
    (``sh``, ``bash``, ``shell``, PowerShell for ``pwsh``/``powershell``/``ps1``). No
    shell ever sees the code as a command line, so nothing in it is interpolated. Blocks
    run in order, each in ``work_dir``, and the run stops at the first failure.

    The result's output is everything the blocks printed, stdout and stderr interleaved
    as they happened. A block running longer than ``timeout`` seconds is killed with its
    whole process group and reported with exit code 124; cancelling the token kills it
    likewise and reports 125; an unknown language gives exit code 1 and says which
    languages are supported.

    Args:
        timeout: Seconds each block may run (at least 1).
        work_dir: Where files are written and code runs; created if missing. By default a
            temporary directory that :meth:`stop` removes.
        functions: Functions written to ``<functions_module>.py`` in ``work_dir`` before
            the first execution, so the code can import them. Packages they declare with
            :func:`~muster.code_executor.with_requirements` are pip-installed first.
        functions_module: Name of that module (a valid identifier).
        cleanup_temp_files: Delete the blocks' files after running them.
        virtual_env_context: A ``venv.EnvBuilder.ensure_directories()`` result: Python
            blocks run with its interpreter and its ``bin`` comes first on ``PATH``.

    Raises:
        CodeExecutionConfigError: ``timeout`` below 1 or ``functions_module`` not an identifier.
    """

    component_config_schema = LocalCommandLineCodeExecutorConfig
    component_provider_override = "muster.code_executors.local.LocalCommandLineCodeExecutor"

    SUPPORTED_LANGUAGES: ClassVar[list[str]] = [*SHELL_LANGUAGES, "python"]
    """Language tags (lower-cased) this executor runs; ``py`` is accepted as ``python``."""

    FUNCTION_PROMPT_TEMPLATE: ClassVar[str] = (
        "The code you write can use the functions below. They are defined in the module "
        "`$module_name`; import each by name, e.g. `from $module_name import name`.\n\n"
        "$functions"
    )
    """Default template of :meth:`format_functions_for_prompt` (``$module_name``, ``$functions``)."""

    def __init__(
        self,
        timeout: int = 60,
        work_dir: Path | str | None = None,
        functions: Sequence[FunctionLike] = (),
        functions_module: str = "functions",
        cleanup_temp_files: bool = True,
        virtual_env_context: SimpleNamespace | None = None,
    ) -> None:
        warnings.warn(
            "LocalCommandLineCodeExecutor runs code directly on this machine with your permissions; "
            "it is not a sandbox. Review code before running it (CodeExecutorAgent's approval_func) "
            "or run it in an isolated container.",
            UserWarning,
            stacklevel=2,
        )
        if timeout < 1:
            raise CodeExecutionConfigError("timeout", f"must be at least 1 second, got {timeout}")
        if not functions_module.isidentifier():
            raise CodeExecutionConfigError(
                "functions_module", f"{functions_module!r} is not a valid Python identifier"
            )
        self._timeout = timeout
        self._work_dir: Path | None = None
        if work_dir is not None:
            self._work_dir = Path(work_dir)
            if self._work_dir.resolve() == Path.cwd().resolve():
                warnings.warn(
                    "Using the current directory as work_dir is deprecated: generated files mix with "
                    "your own and cleanup may delete them. Use a dedicated directory.",
                    DeprecationWarning,
                    stacklevel=2,
                )
            self._work_dir.mkdir(parents=True, exist_ok=True)
        self._functions = list(functions)
        self._functions_ready = not self._functions
        self._functions_module = functions_module
        self._cleanup_temp_files = cleanup_temp_files
        self._virtual_env_context = virtual_env_context
        self._temp_dir: Path | None = None
        self._temp_dir_finalizer: weakref.finalize[Any, Any] | None = None

    @property
    def timeout(self) -> int:
        """Seconds each block may run."""
        return self._timeout

    @property
    def work_dir(self) -> Path:
        """Where code runs; with no ``work_dir`` given, a temporary directory made on first use."""
        if self._work_dir is not None:
            return self._work_dir
        if self._temp_dir is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="muster_code_"))
            # Removed by stop(); the finalizer covers executors dropped without stop().
            self._temp_dir_finalizer = weakref.finalize(
                self, shutil.rmtree, self._temp_dir, ignore_errors=True
            )
        return self._temp_dir

    @property
    def functions(self) -> list[str]:
        """Names of the functions the executed code can import."""
        return [function_name(f) for f in self._functions]

    @property
    def functions_module(self) -> str:
        """The module the functions are importable from."""
        return self._functions_module

    @property
    def cleanup_temp_files(self) -> bool:
        """Whether block files are deleted after running."""
        return self._cleanup_temp_files

    def format_functions_for_prompt(self, prompt_template: str = FUNCTION_PROMPT_TEMPLATE) -> str:
        """Describe the available functions for a system prompt.

        Args:
            prompt_template: A :class:`string.Template` using ``$module_name`` and
                ``$functions`` (the functions' stubs: signature and docstring).
        """
        stubs = "\n\n".join(function_stub(f) for f in self._functions)
        return Template(prompt_template).substitute(module_name=self._functions_module, functions=stubs)

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CommandLineCodeResult:
        """Run the blocks in order in ``work_dir``; stop at the first that fails, times out or is cancelled.

        Raises:
            FunctionSetupError: the first execution could not install or import ``functions``.
        """
        if not self._functions_ready:
            await self._setup_functions(cancellation_token)
        return await self._run_blocks(code_blocks, cancellation_token)

    async def _run_blocks(
        self, code_blocks: Sequence[CodeBlock], cancellation_token: CancellationToken
    ) -> CommandLineCodeResult:
        output = _Output()
        written: list[Path] = []
        exit_code = 0
        try:
            for block in code_blocks:
                if cancellation_token.is_cancelled():
                    exit_code = CANCELLED_EXIT_CODE
                    output.note("Cancelled: execution stopped before this block ran.")
                    break
                exit_code = await self._run_block(block, cancellation_token, output, written)
                if exit_code != 0:
                    break
        finally:
            # Also on an outer cancellation: nothing generated is left behind.
            if self._cleanup_temp_files:
                for path in written:
                    try:
                        path.unlink(missing_ok=True)
                    except OSError as error:
                        logger.warning("Could not delete code file %s: %s", path, error)
        code_file = str(written[0]) if written else None
        return CommandLineCodeResult(exit_code=exit_code, output=output.text, code_file=code_file)

    async def _run_block(
        self,
        block: CodeBlock,
        cancellation_token: CancellationToken,
        output: _Output,
        written: list[Path],
    ) -> int:
        """Run one block, append what it printed to ``output``, return its exit code."""
        language = block.language.strip().lower()
        if language in PYTHON_ALIASES:
            language = "python"
        if language not in self.SUPPORTED_LANGUAGES:
            output.note(
                f"unknown language {block.language!r}: this executor runs "
                f"{', '.join(self.SUPPORTED_LANGUAGES)} (and py as python)"
            )
            return 1
        code = silence_pip(block.code, language)
        work_dir = self.work_dir
        try:
            name = file_name_from_content(code, work_dir)
        except ValueError:
            output.note("Filename is not in the workspace: a '# filename:' must stay inside work_dir.")
            return 1
        if name is None:
            name = f"tmp_code_{sha256(code.encode()).hexdigest()}.{file_extension(language)}"
        path = (work_dir / name).resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")
        written.append(path)

        argv = [self._python(), str(path)] if language == "python" else shell_command(language, path)
        if argv is None:
            output.note(f"unknown language {block.language!r}: neither pwsh nor powershell is installed")
            return 1
        try:
            outcome = await run_process(
                argv,
                cwd=work_dir,
                env=self._environment(),
                time_limit=self._timeout,
                cancellation_token=cancellation_token,
            )
        except FileNotFoundError:
            output.note(f"{argv[0]}: command not found on this host")
            return NOT_FOUND_EXIT_CODE
        output.add(outcome.output)
        if outcome.timed_out:
            output.note(f"Timeout: the code ran longer than {self._timeout} s and was killed.")
            return TIMEOUT_EXIT_CODE
        if outcome.cancelled:
            output.note("Cancelled: the execution was cancelled and the code was killed.")
            return CANCELLED_EXIT_CODE
        return outcome.returncode or 0

    def _python(self) -> str:
        if self._virtual_env_context is not None:
            return os.path.abspath(str(self._virtual_env_context.env_exe))
        return sys.executable

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        # Unbuffered, so stdout and stderr interleave as printed and a killed script's
        # last lines are not lost in its buffer.
        env["PYTHONUNBUFFERED"] = "1"
        if self._virtual_env_context is not None:
            bin_path = os.path.abspath(str(self._virtual_env_context.bin_path))
            env["PATH"] = bin_path + os.pathsep + env.get("PATH", "")
        return env

    async def _setup_functions(self, cancellation_token: CancellationToken) -> None:
        """Write the functions module, install its packages and check that it imports."""
        work_dir = self.work_dir
        (work_dir / f"{self._functions_module}.py").write_text(
            build_functions_module(self._functions), encoding="utf-8"
        )
        packages = required_packages(self._functions)
        if packages:
            logger.info("Installing packages for the executor's functions: %s", packages)
            await self._setup_step(
                "pip install", [self._python(), "-m", "pip", "install", "-qqq", *packages], cancellation_token
            )
        await self._setup_step(
            "load", [self._python(), "-c", f"import {self._functions_module}"], cancellation_token
        )
        self._functions_ready = True

    async def _setup_step(self, step: str, argv: list[str], cancellation_token: CancellationToken) -> None:
        outcome = await run_process(
            argv,
            cwd=self.work_dir,
            env=self._environment(),
            time_limit=self._timeout,
            cancellation_token=cancellation_token,
        )
        if outcome.timed_out:
            raise FunctionSetupError(step, f"timed out after {self._timeout} s")
        if outcome.cancelled:
            raise FunctionSetupError(step, "cancelled")
        if outcome.returncode != 0:
            raise FunctionSetupError(step, outcome.output)

    async def start(self) -> None:
        """Create the temporary working directory now rather than on first use."""
        _ = self.work_dir

    async def stop(self) -> None:
        """Remove the temporary working directory, if this executor made one."""
        if self._temp_dir_finalizer is not None:
            self._temp_dir_finalizer()
            self._temp_dir_finalizer = None
        self._temp_dir = None
        if self._work_dir is None:
            # A fresh temporary directory no longer holds the functions module.
            self._functions_ready = not self._functions

    async def restart(self) -> None:
        """Start over: a temporary working directory is replaced by an empty one.

        A ``work_dir`` you chose is left as it is; functions are set up again on the next
        execution either way.
        """
        await self.stop()
        self._functions_ready = not self._functions
        await self.start()

    def _to_config(self) -> LocalCommandLineCodeExecutorConfig:
        if self._functions:
            logger.info("The executor's functions are code and are left out of its spec")
        if self._virtual_env_context is not None:
            logger.info("The executor's virtual environment is left out of its spec")
        # A temporary directory is private to this instance and removed by stop(): a
        # loaded copy gets its own instead of sharing (or resurrecting) this one.
        return LocalCommandLineCodeExecutorConfig(
            timeout=self._timeout,
            work_dir=str(self._work_dir) if self._work_dir is not None else None,
            functions_module=self._functions_module,
            cleanup_temp_files=self._cleanup_temp_files,
        )

    @classmethod
    def _from_config(cls, config: LocalCommandLineCodeExecutorConfig) -> Self:
        return cls(
            timeout=config.timeout,
            work_dir=config.work_dir,
            functions_module=config.functions_module,
            cleanup_temp_files=config.cleanup_temp_files,
        )


class _Output:
    """The combined output of the blocks run so far, with our own notes on separate lines."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[str] = []

    def add(self, printed: str) -> None:
        """Append what a block printed, verbatim."""
        self._parts.append(printed)

    def note(self, message: str) -> None:
        """Append an executor message on a line of its own."""
        last = next((part for part in reversed(self._parts) if part), "")
        if last and not last.endswith("\n"):
            self._parts.append("\n")
        self._parts.append(message)

    @property
    def text(self) -> str:
        """Everything appended, in order."""
        return "".join(self._parts)
