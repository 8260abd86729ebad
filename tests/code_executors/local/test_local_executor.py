"""LocalCommandLineCodeExecutor: real child processes, timeouts, cancellation, files, functions, specs."""

from __future__ import annotations

import asyncio
import os
import select
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from muster.code_executor import (
    Alias,
    CodeBlock,
    CodeExecutor,
    FunctionWithRequirementsStr,
    with_requirements,
)
from muster.code_executor.exceptions import CodeExecutionConfigError, FunctionSetupError
from muster.code_executors import CommandLineCodeResult
from muster.code_executors.local import LocalCommandLineCodeExecutor
from muster.core import CancellationToken

posix_only = pytest.mark.skipif(
    not hasattr(os, "pidfd_open"), reason="process groups, FIFOs and pidfds (Linux)"
)

Make = Callable[..., LocalCommandLineCodeExecutor]


@pytest.fixture
def make(tmp_path: Path) -> Make:
    """Builds executors in ``tmp_path/work`` (pytest removes it), expecting the host-execution warning."""

    def build(**kwargs: Any) -> LocalCommandLineCodeExecutor:
        kwargs.setdefault("work_dir", tmp_path / "work")
        kwargs.setdefault("timeout", 10)
        with pytest.warns(UserWarning, match="not a sandbox"):
            return LocalCommandLineCodeExecutor(**kwargs)

    return build


async def run(executor: LocalCommandLineCodeExecutor, *blocks: tuple[str, str]) -> CommandLineCodeResult:
    return await executor.execute_code_blocks(
        [CodeBlock(code, lang) for code, lang in blocks], CancellationToken()
    )


def _process_gone(pid: int, within: float = 5.0) -> bool:
    """True once ``pid`` has exited, waiting at most ``within`` seconds for it.

    SIGKILL is delivered asynchronously: a killed grandchild closes its end of the output
    pipe (which ends the executor's read) a moment before it turns into a zombie, so an
    immediate look at ``/proc`` can still see it alive. A pidfd becomes readable exactly
    when the process exits; a zombie waiting to be reaped counts as gone.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], within)
        return bool(readable)
    finally:
        os.close(fd)


async def _read_fifo(path: Path) -> str:
    """Wait (in a thread: opening a FIFO blocks) until the code writes its line."""
    return await asyncio.to_thread(path.read_text)


async def test_python_output_interleaves_stdout_and_stderr(make: Make, tmp_path: Path) -> None:
    executor = make()
    code = "import sys\nprint('out 1')\nprint('err', file=sys.stderr)\nprint('out 2')\n"
    result = await run(executor, (code, "python"))
    assert isinstance(result, CommandLineCodeResult)
    assert result.exit_code == 0
    assert result.output == "out 1\nerr\nout 2\n"
    assert result.code_file is not None
    code_file = Path(result.code_file)
    assert code_file.parent == (tmp_path / "work").resolve()
    assert code_file.name.startswith("tmp_code_") and code_file.suffix == ".py"
    assert not code_file.exists(), "cleanup_temp_files=True deletes the block's file"


async def test_blocks_run_in_order_in_work_dir_and_share_files(make: Make, tmp_path: Path) -> None:
    executor = make()
    result = await run(
        executor,
        ("open('note.txt', 'w').write('from python')", "python"),
        ("cat note.txt; echo; pwd", "sh"),
        ("print('py alias')", "py"),
        ("print('upper case tag')", "Python"),
    )
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "from python"
    assert Path(lines[1]).resolve() == (tmp_path / "work").resolve()
    assert lines[2:] == ["py alias", "upper case tag"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
async def test_bash_block_runs_under_bash(make: Make) -> None:
    result = await run(
        make(), ('if [[ "a" == "a" ]]; then echo "bash: $BASH_VERSION" | cut -c1-5; fi', "bash")
    )
    assert (result.exit_code, result.output) == (0, "bash:\n")


async def test_nonzero_exit_stops_the_run(make: Make) -> None:
    result = await run(make(), ("echo before; exit 3", "sh"), ("print('never')", "python"))
    assert result.exit_code == 3
    assert result.output == "before\n"


async def test_python_exception_reports_traceback(make: Make) -> None:
    result = await run(make(), ("raise ValueError('bad input')", "python"))
    assert result.exit_code == 1
    assert "Traceback" in result.output
    assert "ValueError: bad input" in result.output


async def test_code_is_never_interpreted_by_a_shell_command_line(make: Make, tmp_path: Path) -> None:
    marker = tmp_path / "work" / "injected"
    result = await run(make(), (f"print('$(touch {marker}); `touch {marker}`')", "python"))
    assert result.exit_code == 0
    assert result.output == f"$(touch {marker}); `touch {marker}`\n"
    assert not marker.exists()


async def test_unknown_language_is_a_clear_error_result(make: Make) -> None:
    result = await run(make(), ("puts 1", "ruby"), ("print('never')", "python"))
    assert result.exit_code == 1
    assert "unknown language 'ruby'" in result.output
    assert "python" in result.output and "sh" in result.output
    assert "never" not in result.output
    assert result.code_file is None


async def test_undecodable_output_is_replaced_not_fatal(make: Make) -> None:
    result = await run(make(), ("import sys\nsys.stdout.buffer.write(b'ok \\xff\\n')", "python"))
    assert result.exit_code == 0
    assert result.output == "ok \ufffd\n"


@posix_only
async def test_timeout_kills_the_process_group_and_reports_124(make: Make, tmp_path: Path) -> None:
    executor = make(timeout=1)
    pid_file = tmp_path / "work" / "child.pid"
    # The background sleep holds the output pipe: unless the whole group dies, the read never ends.
    script = f"echo started; sleep 30 & echo $! > {pid_file}; wait; echo never"
    started = time.monotonic()
    result = await run(executor, (script, "sh"), ("print('next block')", "python"))
    elapsed = time.monotonic() - started
    assert result.exit_code == 124
    assert result.output.startswith("started\n")
    assert "Timeout" in result.output and "1 s" in result.output
    assert "never" not in result.output and "next block" not in result.output
    assert elapsed < 5
    assert _process_gone(int(pid_file.read_text()))


@posix_only
async def test_partial_python_output_survives_a_timeout(make: Make) -> None:
    result = await run(make(timeout=1), ("import time\nprint('progress')\ntime.sleep(30)", "python"))
    assert result.exit_code == 124
    assert result.output.startswith("progress\n")


@posix_only
async def test_cancellation_kills_the_running_code_and_reports_125(make: Make, tmp_path: Path) -> None:
    executor = make(timeout=30)
    fifo = tmp_path / "ready"
    os.mkfifo(fifo)
    token = CancellationToken()
    script = f"echo partial; echo $$ > {fifo}; sleep 30"
    task = asyncio.create_task(executor.execute_code_blocks([CodeBlock(script, "sh")], token))
    pid = int(await _read_fifo(fifo))
    started = time.monotonic()
    token.cancel()
    result = await task
    assert time.monotonic() - started < 5
    assert result.exit_code == 125
    assert result.output.startswith("partial\n")
    assert "Cancelled" in result.output
    assert _process_gone(pid)


async def test_a_cancelled_token_runs_nothing(make: Make, tmp_path: Path) -> None:
    executor = make()
    token = CancellationToken()
    token.cancel()
    marker = tmp_path / "work" / "ran"
    result = await executor.execute_code_blocks([CodeBlock(f"open({str(marker)!r}, 'w')", "python")], token)
    assert result.exit_code == 125
    assert "Cancelled" in result.output
    assert not marker.exists()


@posix_only
async def test_cancelling_the_awaiting_task_kills_the_process(make: Make, tmp_path: Path) -> None:
    executor = make(timeout=30, cleanup_temp_files=True)
    fifo = tmp_path / "ready"
    os.mkfifo(fifo)
    task = asyncio.create_task(
        executor.execute_code_blocks([CodeBlock(f"echo $$ > {fifo}; sleep 30", "sh")], CancellationToken())
    )
    pid = int(await _read_fifo(fifo))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _process_gone(pid)
    assert list((tmp_path / "work").glob("tmp_code_*")) == [], "files are cleaned up on cancellation too"


async def test_named_file_is_kept_when_cleanup_is_off(make: Make, tmp_path: Path) -> None:
    executor = make(cleanup_temp_files=False)
    result = await run(
        executor,
        ("# filename: helpers/greet.py\ndef hello():\n    return 'hello'\n", "python"),
        ("import sys\nsys.path.insert(0, 'helpers')\nfrom greet import hello\nprint(hello())", "python"),
    )
    assert result.exit_code == 0
    assert result.output == "hello\n"
    assert result.code_file == str((tmp_path / "work" / "helpers" / "greet.py").resolve())
    assert Path(result.code_file).read_text().startswith("# filename: helpers/greet.py")
    assert len(list((tmp_path / "work").glob("tmp_code_*.py"))) == 1


async def test_filename_outside_the_workspace_is_refused(make: Make, tmp_path: Path) -> None:
    result = await run(make(), ("# filename: ../escaped.py\nprint('x')", "python"))
    assert result.exit_code == 1
    assert "Filename is not in the workspace" in result.output
    assert not (tmp_path / "escaped.py").exists()


async def test_temporary_work_dir_lives_until_stop() -> None:
    with pytest.warns(UserWarning):
        executor = LocalCommandLineCodeExecutor()
    async with executor:
        work_dir = executor.work_dir
        assert work_dir.is_dir()
        result = await executor.execute_code_blocks([CodeBlock("pwd", "sh")], CancellationToken())
        assert Path(result.output.strip()).resolve() == work_dir.resolve()
    assert not work_dir.exists()

    await executor.restart()
    fresh = executor.work_dir
    assert fresh != work_dir and fresh.is_dir()
    await executor.stop()
    assert not fresh.exists()


async def test_virtual_env_context_puts_its_bin_first_on_path(make: Make, tmp_path: Path) -> None:
    bin_dir = tmp_path / "venv-bin"
    bin_dir.mkdir()
    tool = bin_dir / "muster-test-tool"
    tool.write_text("#!/bin/sh\necho from the venv\n")
    tool.chmod(0o755)
    executor = make(virtual_env_context=SimpleNamespace(env_exe=sys.executable, bin_path=str(bin_dir)))
    result = await run(executor, ("muster-test-tool", "sh"), ("import sys; print(sys.executable)", "python"))
    assert result.exit_code == 0
    assert result.output.splitlines() == ["from the venv", os.path.abspath(sys.executable)]


async def test_missing_interpreter_reports_127(make: Make, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-python"
    executor = make(virtual_env_context=SimpleNamespace(env_exe=str(missing), bin_path=str(tmp_path)))
    result = await run(executor, ("print(1)", "python"))
    assert result.exit_code == 127
    assert "command not found" in result.output


def add_numbers(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@with_requirements(global_imports=[Alias("statistics", "st")])
def average(values: list[float]) -> float:
    """The mean of values."""
    return st.mean(values)  # type: ignore[name-defined]  # noqa: F821 - imported in the functions module


async def test_functions_are_importable_by_executed_code(make: Make) -> None:
    shout = FunctionWithRequirementsStr("def shout(text):\n    return text.upper() + '!'\n")
    executor = make(functions=[add_numbers, average, shout], functions_module="tools_mod")
    assert executor.functions == ["add_numbers", "average", "shout"]
    prompt = executor.format_functions_for_prompt()
    assert "tools_mod" in prompt
    assert "def add_numbers(a: 'int', b: 'int') -> 'int':" in prompt
    assert "Add two integers." in prompt and "return a + b" not in prompt
    code = "from tools_mod import add_numbers, average, shout\nprint(add_numbers(2, 3), average([1, 3]), shout('hi'))"
    result = await run(executor, (code, "python"))
    assert (result.exit_code, result.output) == (0, "5 2 HI!\n")
    assert (executor.work_dir / "tools_mod.py").exists()


async def test_functions_that_fail_to_import_raise_setup_error(make: Make) -> None:
    broken = FunctionWithRequirementsStr(
        "def f():\n    return 1\n", global_imports=["muster_no_such_module_xyz"]
    )
    executor = make(functions=[broken])
    with pytest.raises(FunctionSetupError, match="load") as info:
        await run(executor, ("print(1)", "python"))
    assert "muster_no_such_module_xyz" in info.value.output


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [({"timeout": 0}, "timeout"), ({"functions_module": "not-a-module"}, "functions_module")],
)
def test_invalid_arguments_are_rejected(tmp_path: Path, kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.warns(UserWarning), pytest.raises(CodeExecutionConfigError) as info:
        LocalCommandLineCodeExecutor(work_dir=tmp_path, **kwargs)
    assert info.value.parameter == parameter
    assert isinstance(info.value, ValueError)


def test_current_directory_as_work_dir_is_deprecated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning), pytest.warns(DeprecationWarning, match="current directory"):
        LocalCommandLineCodeExecutor(work_dir=".")


async def test_spec_round_trip(make: Make, tmp_path: Path) -> None:
    executor = make(timeout=7, functions_module="helpers", cleanup_temp_files=False)
    spec = executor.dump_component()
    assert spec.provider == "muster.code_executors.local.LocalCommandLineCodeExecutor"
    assert spec.component_type == "code_executor"
    assert spec.config == {
        "timeout": 7,
        "work_dir": str(tmp_path / "work"),
        "functions_module": "helpers",
        "cleanup_temp_files": False,
    }
    with pytest.warns(UserWarning):
        loaded = CodeExecutor.load_component(spec)
    assert isinstance(loaded, LocalCommandLineCodeExecutor)
    assert (loaded.timeout, loaded.work_dir, loaded.functions_module, loaded.cleanup_temp_files) == (
        7,
        tmp_path / "work",
        "helpers",
        False,
    )


async def test_temporary_work_dir_is_not_written_into_the_spec() -> None:
    with pytest.warns(UserWarning):
        executor = LocalCommandLineCodeExecutor()
    async with executor:
        _ = executor.work_dir
        assert "work_dir" not in executor.dump_component().config


def test_autogen_spec_loads(tmp_path: Path) -> None:
    spec = {
        "provider": "autogen_ext.code_executors.local.LocalCommandLineCodeExecutor",
        "component_type": "code_executor",
        "version": 1,
        "component_version": 1,
        "config": {"timeout": 30, "work_dir": str(tmp_path), "functions_module": "functions"},
    }
    with pytest.warns(UserWarning):
        loaded = CodeExecutor.load_component(spec)
    assert isinstance(loaded, LocalCommandLineCodeExecutor)
    assert loaded.timeout == 30 and loaded.work_dir == tmp_path
