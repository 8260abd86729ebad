"""The contract every code executor implements (AutoGen: ``autogen_core.code_executor.CodeExecutor``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from pydantic import BaseModel

from muster.core import CancellationToken, ComponentBase

from ._types import CodeBlock, CodeResult

__all__ = ["CodeExecutor"]


class CodeExecutor(ABC, ComponentBase[BaseModel]):
    """Runs code blocks somewhere (a local process, a container, a kernel) and reports the result.

    An ABC rather than a Protocol because executors are components: they are dumped to
    and loaded from specs as ``component_type="code_executor"``, which needs the shared
    component machinery. Executors hold resources (temporary directories, containers),
    so use them as async context managers: ``async with executor:`` calls :meth:`start`
    and, whatever happens inside, :meth:`stop`.

    Failures of the executed code (a traceback, a non-zero exit, a timeout) are results,
    not exceptions: the code's author, often a model, is meant to read them.
    """

    component_type = "code_executor"

    @abstractmethod
    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        """Run the blocks in order, stopping at the first that fails, and report what happened.

        Args:
            code_blocks: The blocks to run.
            cancellation_token: Stops the execution; the executor reports how far it got.

        Returns:
            The exit code of the last block run and the output of all blocks run.

        Raises:
            ValueError: the request itself is unusable (an executor-specific misuse).
        """

    @abstractmethod
    async def start(self) -> None:
        """Acquire what executing needs (a working directory, a container...)."""

    @abstractmethod
    async def stop(self) -> None:
        """Release what :meth:`start` acquired; safe to call more than once."""

    @abstractmethod
    async def restart(self) -> None:
        """Return the execution environment to a fresh state."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.stop()
