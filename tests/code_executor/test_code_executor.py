"""muster.code_executor: block/result types, the executor contract, functions with requirements, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muster.code_executor import (
    Alias,
    CodeBlock,
    CodeExecutor,
    CodeResult,
    FunctionWithRequirements,
    FunctionWithRequirementsStr,
    ImportFromModule,
    with_requirements,
)
from muster.code_executor._func_with_reqs import (
    build_functions_module,
    function_name,
    function_stub,
    required_packages,
)
from muster.code_executor.exceptions import (
    ApprovalNotSerializableError,
    CodeExecutionConfigError,
    CodeExecutorError,
    FunctionSetupError,
)
from muster.core import CancellationToken
from muster.core.exceptions import MusterError
from muster.messages import CodeExecutionEvent, CodeGenerationEvent, MessageFactory


def test_block_and_result_keep_autogen_positional_fields() -> None:
    assert CodeBlock("print(1)", "python") == CodeBlock(code="print(1)", language="python")
    result = CodeResult(0, "1\n")
    assert (result.exit_code, result.output) == (0, "1\n")


@given(
    code=st.text(),
    language=st.sampled_from(["python", "sh", "bash"]),
    exit_code=st.integers(-255, 255),
    output=st.text(),
)
def test_code_events_round_trip_through_json(code: str, language: str, exit_code: int, output: str) -> None:
    factory = MessageFactory()
    generation = CodeGenerationEvent(
        retry_attempt=0, content="x", code_blocks=[CodeBlock(code, language)], source="coder"
    )
    execution = CodeExecutionEvent(retry_attempt=1, result=CodeResult(exit_code, output), source="coder")
    for event in (generation, execution):
        assert factory.create(event.model_dump(mode="json")) == event


class RecordingExecutor(CodeExecutor):
    """Minimal executor: echoes the code and records lifecycle calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        return CodeResult(0, "".join(b.code for b in code_blocks))

    async def start(self) -> None:
        self.calls.append("start")

    async def stop(self) -> None:
        self.calls.append("stop")

    async def restart(self) -> None:
        self.calls.append("restart")


def test_executor_is_abstract() -> None:
    with pytest.raises(TypeError):
        CodeExecutor()  # type: ignore[abstract]
    assert CodeExecutor.component_type == "code_executor"


async def test_context_manager_starts_and_stops_even_on_error() -> None:
    executor = RecordingExecutor()
    async with executor as entered:
        assert entered is executor
        assert executor.calls == ["start"]
    assert executor.calls == ["start", "stop"]

    with pytest.raises(RuntimeError, match="boom"):
        async with executor:
            raise RuntimeError("boom")
    assert executor.calls[-1] == "stop"


def sample(a: int, b: int = 2) -> int:
    """Add two numbers."""
    return a + b


@with_requirements(
    python_packages=["pkg-one", "pkg-two"],
    global_imports=[
        "math",
        Alias("json", "j"),
    ],
)
def decorated(x: float) -> float:
    """Square root of x."""
    return math_sqrt(x)


def math_sqrt(x: float) -> float:
    return float(x) ** 0.5


def test_with_requirements_keeps_the_function_callable() -> None:
    assert isinstance(decorated, FunctionWithRequirements)
    assert decorated(9.0) == 3.0
    assert list(decorated.python_packages) == ["pkg-one", "pkg-two"]
    wrapped = FunctionWithRequirements.from_callable(sample, python_packages=["x"])
    assert wrapped(1) == 3
    assert list(wrapped.python_packages) == ["x"]


def test_function_from_str_compiles_eagerly() -> None:
    func = FunctionWithRequirements.from_str(
        "from os.path import join\n\ndef greet(name: str) -> str:\n    return join('hi', name)\n"
    )
    assert isinstance(func, FunctionWithRequirementsStr)
    # The imported ``join`` is not counted as the text's function.
    assert function_name(func) == "greet"
    with pytest.raises(NotImplementedError):
        func()
    with pytest.raises(ValueError, match="compile"):
        FunctionWithRequirementsStr("def broken(:\n    pass")
    with pytest.raises(ValueError, match="exactly one function, found 2"):
        FunctionWithRequirementsStr("def a():\n    pass\n\ndef b():\n    pass\n")
    with pytest.raises(ValueError, match="found 0"):
        FunctionWithRequirementsStr("x = 1\n")


def test_import_from_module_accepts_lists_and_is_hashable() -> None:
    first = ImportFromModule("os.path", ["join", Alias("exists", "ex")])
    second = ImportFromModule("os.path", ("join", Alias("exists", "ex")))
    assert first == second
    assert len({first, second}) == 1


def test_functions_module_strips_decorators_and_writes_each_import_once() -> None:
    from_str = FunctionWithRequirementsStr(
        "def shout(s: str) -> str:\n    return s.upper()\n",
        global_imports=["math", ImportFromModule("os.path", ["join", Alias("exists", "ex")])],
    )
    source = build_functions_module([decorated, sample, from_str])
    assert "@with_requirements" not in source
    assert "global_imports" not in source  # the multi-line decorator is gone entirely
    assert source.count("import math\n") == 1
    assert "import json as j" in source
    assert "from os.path import join, exists as ex" in source
    namespace: dict[str, object] = {"math_sqrt": math_sqrt}
    exec(source, namespace)
    assert namespace["sample"](1) == 3  # type: ignore[operator]
    assert namespace["shout"]("a") == "A"  # type: ignore[operator]
    assert required_packages([decorated, sample, decorated]) == ["pkg-one", "pkg-two"]


def test_stub_shows_signature_and_docstring_only() -> None:
    stub = function_stub(sample)
    # This module uses postponed annotations, so the signature shows them as strings.
    assert stub.startswith("def sample(a: 'int', b: 'int' = 2) -> 'int':\n")
    assert '"""Add two numbers."""' in stub
    assert stub.rstrip().endswith("...")
    assert "return" not in stub


def test_errors_are_muster_and_value_errors_with_data() -> None:
    config = CodeExecutionConfigError("timeout", "must be at least 1 second, got 0")
    assert (config.parameter, str(config)) == ("timeout", "Invalid timeout: must be at least 1 second, got 0")
    setup = FunctionSetupError("load", "ModuleNotFoundError: nope")
    assert setup.step == "load" and "nope" in str(setup)
    denied = ApprovalNotSerializableError("coder")
    assert denied.agent_name == "coder" and "approval_func" in str(denied)
    for error in (config, setup, denied):
        assert isinstance(error, CodeExecutorError)
        assert isinstance(error, MusterError)
        assert isinstance(error, ValueError)
