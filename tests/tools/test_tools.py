"""Tests for the tool registry and the built-in tools (no UI, no network)."""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pytest

from streamchat.tools import Tool, ToolOutcome, ToolRegistry, clock, default_registry
from streamchat.tools.calculator import calculator
from streamchat.tools.clock import current_time
from streamchat.tools.files import MAX_LIST_ENTRIES, MAX_READ_BYTES, Workspace
from streamchat.tools.registry import MAX_RESULT_CHARS

# --------------------------------------------------------------------------- schema


def search(
    query: str,
    limit: int,
    threshold: float,
    exact: bool,
    tags: list[str],
    mode: Literal["fast", "thorough"] = "fast",
    page: int | None = None,
    cursor: str | None = None,
) -> str:
    """Search the notes for a query.

    This second paragraph is not part of the description.

    Args:
        query: Words to look for.
        limit: Maximum number of hits,
            counted after de-duplication.
        threshold (float): Minimum score.
        exact: Match whole words only.
        tags: Only notes with these tags.
        mode: How hard to search.
        page: Page number.

    Returns:
        The hits, one per line.
    """
    return f"{query}|{limit}|{threshold}|{exact}|{tags}|{mode}|{page}|{cursor}"


def test_schema_types_required_enum_and_descriptions() -> None:
    tool = ToolRegistry().register(search)
    params = tool.parameters
    assert params["type"] == "object"
    assert params["additionalProperties"] is False
    assert params["required"] == ["query", "limit", "threshold", "exact", "tags"]
    props = params["properties"]
    assert props["query"] == {"type": "string", "description": "Words to look for."}
    assert props["limit"] == {
        "type": "integer",
        "description": "Maximum number of hits, counted after de-duplication.",
    }
    assert props["threshold"] == {"type": "number", "description": "Minimum score."}
    assert props["exact"]["type"] == "boolean"
    assert props["tags"] == {
        "type": "array",
        "items": {"type": "string"},
        "description": "Only notes with these tags.",
    }
    assert props["mode"] == {"type": "string", "enum": ["fast", "thorough"], "description": "How hard to search."}
    assert props["page"] == {"type": "integer", "description": "Page number."}
    assert props["cursor"] == {"type": "string"}  # no Args entry -> no description
    assert tool.description == "Search the notes for a query."


def test_tool_schema_shape_and_registry_accessors() -> None:
    registry = ToolRegistry(timeout_s=3)
    tool = registry.register(search, name="find", timeout_s=1.5)
    assert isinstance(tool, Tool)
    assert tool.timeout_s == 1.5
    assert registry.register(calculator).timeout_s == 3.0
    assert registry.names == ["find", "calculator"]
    assert registry.get("find") is tool
    assert registry.get("search") is None
    schema = tool.schema()
    assert schema["type"] == "function"
    assert schema["function"]["name"] == "find"
    assert schema["function"]["description"] == "Search the notes for a query."
    assert schema["function"]["parameters"] is tool.parameters
    assert registry.schemas() == [tool.schema(), registry.get("calculator").schema()]  # type: ignore[union-attr]


def test_register_rejects_bad_functions_and_duplicates() -> None:
    registry = ToolRegistry()
    registry.register(calculator)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(calculator)

    def variadic(*args: int) -> int:
        return sum(args)

    def weird(x: complex) -> str:
        return str(x)

    with pytest.raises(TypeError, match="args"):
        registry.register(variadic)
    with pytest.raises(TypeError, match="Unsupported type"):
        registry.register(weird)
    with pytest.raises(ValueError, match="Invalid tool name"):
        registry.register(calculator, name="has space")
    with pytest.raises(ValueError, match="positive"):
        ToolRegistry(timeout_s=0)


# ----------------------------------------------------------------------- calculator


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("2**100", str(2**100)),
        ("7 // 2", "3"),
        ("-7 % 3", "2"),
        ("10 / 4", "2.5"),
        ("0.1 + 0.2", "0.3"),
        ("-(2 ** 3)", "-8"),
        ("+5", "5"),
        ("sqrt(16)", "4"),
        ("sqrt(2)", "1.4142135623731"),
        ("factorial(20)", "2432902008176640000"),
        ("log(8, 2)", "3"),
        ("log10(1000)", "3"),
        ("sin(pi / 2)", "1"),
        ("round(pi, 2)", "3.14"),
        ("e", "2.71828182845905"),
        ("max(3, 9, 4) - abs(-2)", "7"),
        ("gcd(12, 18)", "6"),
        ("2 ** -1", "0.5"),
        ("2**64 / 7", "2635249153387078802.285714285714286"),  # exact, not 2.63524915338708e+18
        ("1 / 3", "0.333333333333333"),
        ("1 / 3 * 3", "1"),
        ("(2 / 3) ** -2", "2.25"),
        ("gcd(4 / 2, 6)", "2"),
        ("sqrt(1 / 4)", "0.5"),
        ("1 / 3 + 0.5", "0.833333333333333"),
        ("1 / 10**30", "1E-30"),
    ],
)
def test_calculator_happy_paths(expression: str, expected: str) -> None:
    assert calculator(expression) == expected


def test_calculator_big_integers_are_exact() -> None:
    result = calculator("10**9999 + 1")
    assert len(result) == 10_000  # beyond Python's default 4300-digit str() limit
    assert result.startswith("1000") and result.endswith("0001")
    assert calculator("factorial(1000)").startswith("402387260077")
    third = calculator("10**9999 / 3")  # every digit of the whole part, 15 after the point
    assert third.startswith("3333") and len(third.split(".")[0]) == 9999 and third.endswith(".333333333333333")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("().__class__", "Attribute lookups"),
        ("(1).real", "Attribute lookups"),
        ("__import__('os')", "Unknown function '__import__'"),
        ("open('/etc/passwd')", "Unknown function 'open'"),
        ("'abc'", "Only numbers are allowed"),
        ("lambda: 1", "Lambdas"),
        ("[x for x in (1, 2)]", "Comprehensions"),
        ("(1, 2)[0]", "Subscripts"),
        ("x", "Unknown name 'x'"),
        ("sqrt", "is a function"),
        ("2 ^ 3", "use ** for powers"),
        ("1 < 2", "Comparisons"),
        ("True + 1", "Only numbers are allowed"),
        ("1j", "Only numbers are allowed"),
        ("sqrt(x=4)", "positional arguments only"),
        ("9**9**9", "more than 10000 digits"),
        ("10**10001", "more than 10000 digits"),
        ("(10**9999) * (10**9999)", "too large"),
        ("(1 / 3) ** 100000", "more than 10000 digits"),
        ("factorial(100000)", "too large (maximum 1000)"),
        ("comb(10**6, 3)", "too large"),
        ("round(5, -10**9)", "too large"),
        ("exp(1000)", "too large"),
        ("1 / 0", "Division by zero"),
        ("5 // 0", "Division by zero"),
        ("5 % 0", "Division by zero"),
        ("sqrt(-1)", "math domain error"),
        ("(-8) ** 0.5", "not a real number"),
        ("1 +", "Invalid expression"),
        ("   ", "empty"),
    ],
)
def test_calculator_refusals(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=None) as info:
        calculator(expression)
    assert message in str(info.value)


def test_calculator_refuses_huge_power_quickly() -> None:
    start = time.perf_counter()
    with pytest.raises(ValueError):
        calculator("9**9**9")
    assert time.perf_counter() - start < 0.5


def test_calculator_length_limit() -> None:
    ok = "1" + "+1" * 249  # 499 characters
    assert calculator(ok) == "250"
    with pytest.raises(ValueError, match="too long"):
        calculator("1" + "+1" * 300)


def test_calculator_never_uses_eval_or_exec(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("eval/exec must not be used")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    assert calculator("sqrt(9) + 2**3") == "11"


# ---------------------------------------------------------------------------- clock


def test_current_time_fixed_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime(2024, 7, 1, 12, 0, 5, 123, tzinfo=UTC))
    assert current_time("Europe/Paris") == "2024-07-01T14:00:05+02:00 Europe/Paris (CEST, UTC+02:00, Monday)"
    assert current_time("Asia/Kolkata").startswith("2024-07-01T17:30:05+05:30 Asia/Kolkata (IST, UTC+05:30")
    assert current_time("America/New_York").startswith("2024-07-01T08:00:05-04:00")
    assert current_time() == "2024-07-01T12:00:05+00:00 UTC (UTC, UTC+00:00, Monday)"
    assert current_time("europe/paris").startswith("2024-07-01T14:00:05+02:00 Europe/Paris")


def test_current_time_real_clock() -> None:
    text = current_time("Asia/Tokyo")
    stamp, zone = text.split(" ")[:2]
    assert zone == "Asia/Tokyo"
    moment = datetime.fromisoformat(stamp)
    assert moment.utcoffset() == timedelta(hours=9)
    assert abs((moment - datetime.now(UTC)).total_seconds()) < 5
    assert "UTC+09:00" in text


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "/etc/localtime"])
def test_current_time_unknown_zone(zone: str) -> None:
    with pytest.raises(ValueError) as info:
        current_time(zone)
    assert str(info.value) == f"Unknown time zone '{zone}'; use an IANA name like Europe/Paris"


# ---------------------------------------------------------------------------- files


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("hello\n", encoding="utf-8")
    (root / "sub" / "b.txt").write_text("inner ✓\n", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("TOP SECRET", encoding="utf-8")
    (tmp_path / "outside_dir").mkdir()
    (tmp_path / "outside_dir" / "x.txt").write_text("outside", encoding="utf-8")
    return root


def test_list_files(workspace: Path) -> None:
    files = Workspace(workspace)
    listing = files.list_files().splitlines()
    assert listing == ["./ (2 entries):", "a.txt  6 bytes", "sub/"]
    assert files.list_files("sub").splitlines() == ["sub/ (1 entry):", "b.txt  10 bytes"]
    assert files.list_files("sub/..").splitlines()[0] == "./ (2 entries):"
    (workspace / "empty").mkdir()
    assert "is empty" in files.list_files("empty")
    with pytest.raises(NotADirectoryError):
        files.list_files("a.txt")
    with pytest.raises(FileNotFoundError):
        files.list_files("missing")


def test_list_files_caps_entries(workspace: Path) -> None:
    many = workspace / "many"
    many.mkdir()
    for i in range(MAX_LIST_ENTRIES + 50):
        (many / f"f{i:03d}").touch()
    lines = Workspace(workspace).list_files("many").splitlines()
    assert lines[0] == "many/ (250 entries):"
    assert len(lines) == 1 + MAX_LIST_ENTRIES + 1
    assert lines[1] == "f000  0 bytes"
    assert "50 more entries" in lines[-1]


def test_read_file(workspace: Path) -> None:
    files = Workspace(workspace)
    assert files.read_file("a.txt") == "hello\n"
    assert files.read_file("sub/b.txt") == "inner ✓\n"
    assert files.read_file("sub/../a.txt") == "hello\n"
    with pytest.raises(IsADirectoryError):
        files.read_file("sub")
    with pytest.raises(FileNotFoundError):
        files.read_file("nope.txt")


@pytest.mark.parametrize("path", ["../secret.txt", "sub/../../secret.txt", "..", "../outside_dir"])
def test_file_tools_refuse_dotdot_escape(workspace: Path, path: str) -> None:
    files = Workspace(workspace)
    with pytest.raises(PermissionError, match="outside the workspace"):
        files.read_file(path)
    with pytest.raises(PermissionError, match="outside the workspace"):
        files.list_files(path)


def test_file_tools_refuse_absolute_paths(workspace: Path) -> None:
    files = Workspace(workspace)
    for path in [str(workspace.parent / "secret.txt"), str(workspace / "a.txt"), "/etc"]:
        with pytest.raises(PermissionError, match="Absolute paths"):
            files.read_file(path)
        with pytest.raises(PermissionError, match="Absolute paths"):
            files.list_files(path)


def test_file_tools_refuse_symlinks_outside(workspace: Path) -> None:
    os.symlink(workspace.parent / "secret.txt", workspace / "leak.txt")
    os.symlink(workspace.parent / "outside_dir", workspace / "leakdir")
    os.symlink(workspace / "a.txt", workspace / "alias.txt")  # inside: allowed
    files = Workspace(workspace)
    with pytest.raises(PermissionError, match="outside the workspace"):
        files.read_file("leak.txt")
    with pytest.raises(PermissionError, match="outside the workspace"):
        files.list_files("leakdir")
    with pytest.raises(PermissionError, match="outside the workspace"):
        files.read_file("leakdir/x.txt")
    assert files.read_file("alias.txt") == "hello\n"
    listing = files.list_files()
    assert "leak.txt  (link to outside the workspace)" in listing.splitlines()
    assert "10 bytes" not in listing  # the outside file's size is not revealed


def test_read_file_size_limit(workspace: Path) -> None:
    (workspace / "max.txt").write_bytes(b"a" * MAX_READ_BYTES)
    (workspace / "big.txt").write_bytes(b"a" * (MAX_READ_BYTES + 1))
    files = Workspace(workspace)
    assert len(files.read_file("max.txt")) == MAX_READ_BYTES
    with pytest.raises(ValueError) as info:
        files.read_file("big.txt")
    assert "102,401 bytes" in str(info.value)
    assert "102,400-byte (100 KB) limit" in str(info.value)


def test_read_file_refuses_binary(workspace: Path) -> None:
    (workspace / "nul.bin").write_bytes(b"abc\x00def")
    (workspace / "latin1.txt").write_bytes("café".encode("latin-1"))
    files = Workspace(workspace)
    with pytest.raises(ValueError, match="binary"):
        files.read_file("nul.bin")
    with pytest.raises(ValueError, match="not UTF-8"):
        files.read_file("latin1.txt")


def test_workspace_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        Workspace(tmp_path / "missing")
    with pytest.raises(NotADirectoryError):
        default_registry(tmp_path / "missing")


async def test_default_registry_file_tools_are_confined(workspace: Path) -> None:
    registry = default_registry(workspace)
    assert registry.names == ["calculator", "current_time", "list_files", "read_file"]
    ok = await registry.run("read_file", '{"path": "a.txt"}')
    assert ok == ToolOutcome("hello\n", False)
    leak = await registry.run("read_file", '{"path": "../secret.txt"}')
    assert leak.is_error
    assert "outside the workspace" in leak.content
    assert "TOP SECRET" not in leak.content
    calc = await registry.run("calculator", '{"expression": "6 * 7"}')
    assert calc == ToolOutcome("42", False)
    bad = await registry.run("calculator", '{"expression": "().__class__"}')
    assert bad.is_error
    assert bad.content.startswith("ValueError: Attribute lookups")


# ------------------------------------------------------------------------------ run


def add(a: int, b: float = 0.5) -> Any:
    """Add two numbers.

    Args:
        a: First number.
        b: Second number.
    """
    return {"sum": a + b, "b_type": type(b).__name__}


def tagged(tags: list[str], mode: Literal["x", "y"] = "x", note: str | None = None) -> str:
    """Echo the arguments."""
    return f"{tags}|{mode}|{note}"


@pytest.fixture
def registry() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(add)
    registry.register(tagged)
    return registry


async def test_run_success_and_json_encoding(registry: ToolRegistry) -> None:
    outcome = await registry.run("add", '{"a": 2, "b": 3}')
    assert not outcome.is_error
    assert json.loads(outcome.content) == {"sum": 5.0, "b_type": "float"}  # int accepted for float
    outcome = await registry.run("add", '  {"a": 2}  ')
    assert json.loads(outcome.content) == {"sum": 2.5, "b_type": "float"}
    outcome = await registry.run("add", '{"a": 2, "b": null}')  # null -> default
    assert json.loads(outcome.content)["sum"] == 2.5
    outcome = await registry.run("tagged", '{"tags": ["p", "q"], "mode": "y"}')
    assert outcome == ToolOutcome("['p', 'q']|y|None", False)


async def test_run_empty_arguments_mean_empty_object() -> None:
    registry = ToolRegistry()

    def ping() -> str:
        """Ping."""
        return "pong"

    registry.register(ping)
    assert await registry.run("ping", "") == ToolOutcome("pong", False)
    assert await registry.run("ping", "   \n") == ToolOutcome("pong", False)


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("add", '{"a": 1,', "Arguments are not valid JSON: "),
        ("add", "not json", "Arguments are not valid JSON: "),
        ("add", "[" * 100_000, "Arguments are not valid JSON: "),
        ("add", "[1, 2]", "Arguments must be a JSON object, got an array"),
        ("add", '"a"', "Arguments must be a JSON object, got a string"),
        ("add", "{}", "Missing required parameter 'a' for tool 'add'"),
        ("add", '{"a": 1, "c": 2}', "Unknown parameter 'c' for tool 'add'. Expected: a, b"),
        ("add", '{"a": "1"}', "Parameter 'a' must be an integer, got a string"),
        ("add", '{"a": true}', "Parameter 'a' must be an integer, got a boolean"),
        ("add", '{"a": 1.5}', "Parameter 'a' must be an integer, got a number"),
        ("add", '{"a": null}', "Parameter 'a' must be an integer, got null"),
        ("add", '{"a": 1, "b": "x"}', "Parameter 'b' must be a number, got a string"),
        ("add", '{"a": 1, "b": 1' + "0" * 400 + "}", "Parameter 'b' is too large"),
        ("tagged", '{"tags": "p"}', "Parameter 'tags' must be an array, got a string"),
        ("tagged", '{"tags": ["p", 3]}', "Parameter 'tags'[1] must be a string, got an integer"),
        ("tagged", '{"tags": [], "mode": "z"}', 'Parameter \'mode\' must be one of "x", "y", got "z"'),
        ("nope", "{}", "Unknown tool 'nope'. Available tools: add, tagged"),
    ],
)
async def test_run_argument_errors(registry: ToolRegistry, name: str, arguments: str, message: str) -> None:
    outcome = await registry.run(name, arguments)
    assert outcome.is_error
    assert outcome.content.startswith(message), outcome.content


async def test_run_raising_tool_gives_error_without_traceback() -> None:
    registry = ToolRegistry()

    def explode(x: int) -> int:
        """Divide by zero."""
        return x // 0

    registry.register(explode)
    outcome = await registry.run("explode", '{"x": 1}')
    assert outcome == ToolOutcome("ZeroDivisionError: integer division or modulo by zero", True)


async def test_run_sync_tool_runs_in_a_thread() -> None:
    seen: list[int] = []

    def where() -> str:
        """Record the thread."""
        seen.append(threading.get_ident())
        return "ok"

    registry = ToolRegistry()
    registry.register(where)
    assert await registry.run("where", "{}") == ToolOutcome("ok", False)
    assert seen and seen[0] != threading.get_ident()


async def test_run_async_tool_timeout() -> None:
    async def slow() -> str:
        """Sleep too long."""
        await asyncio.sleep(5)
        return "never"

    registry = ToolRegistry()
    registry.register(slow, timeout_s=0.1)
    start = time.perf_counter()
    outcome = await registry.run("slow", "")
    assert outcome == ToolOutcome("Tool 'slow' timed out after 0.1 s", True)
    assert time.perf_counter() - start < 1


async def test_run_sync_tool_timeout() -> None:
    release = threading.Event()

    def blocking() -> str:
        """Block until released."""
        release.wait(5)
        return "late"

    registry = ToolRegistry(timeout_s=0.1)
    registry.register(blocking)
    try:
        outcome = await registry.run("blocking", "")
    finally:
        release.set()
    assert outcome == ToolOutcome("Tool 'blocking' timed out after 0.1 s", True)


async def test_run_cancellation_propagates() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def waiting() -> str:
        """Wait forever."""
        started.set()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    registry = ToolRegistry()
    registry.register(waiting)
    task = asyncio.create_task(registry.run("waiting", ""))
    await asyncio.wait_for(started.wait(), 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled.is_set()


async def test_run_truncates_long_results() -> None:
    def huge() -> str:
        """Return a lot of text."""
        return "x" * (MAX_RESULT_CHARS + 5000)

    registry = ToolRegistry()
    registry.register(huge)
    outcome = await registry.run("huge", "")
    assert not outcome.is_error
    assert outcome.content.startswith("x" * MAX_RESULT_CHARS)
    assert "x" * (MAX_RESULT_CHARS + 1) not in outcome.content
    assert "truncated" in outcome.content
    assert len(outcome.content) < MAX_RESULT_CHARS + 200


async def test_run_optional_without_default_and_async_callable() -> None:
    def maybe(value: int | None) -> str:
        """Report the value."""
        return repr(value)

    class Doubler:
        """Doubles a number asynchronously."""

        async def __call__(self, n: int) -> int:
            await asyncio.sleep(0)
            return n * 2

    registry = ToolRegistry()
    tool = registry.register(maybe)
    registry.register(Doubler(), name="double")
    assert tool.parameters["required"] == []
    assert await registry.run("maybe", "{}") == ToolOutcome("None", False)
    assert await registry.run("maybe", '{"value": 3}') == ToolOutcome("3", False)
    assert await registry.run("double", '{"n": 21}') == ToolOutcome("42", False)


def test_tools_package_does_not_import_ui_or_openai() -> None:
    code = (
        "import sys, streamchat.tools as t; t.default_registry('.');"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'openai')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", [".env", ".env.local", "sub/.env"])
def test_file_tools_never_read_env_files(tmp_path: Path, name: str) -> None:
    from streamchat.tools.files import Workspace

    (tmp_path / "sub").mkdir()
    (tmp_path / name).write_text("OPENAI_API_KEY=hunter2\n", encoding="utf-8")
    (tmp_path / ".env.example").write_text("OPENAI_API_KEY=\n", encoding="utf-8")
    workspace = Workspace(tmp_path)
    with pytest.raises(PermissionError, match="secrets"):
        workspace.read_file(name)
    assert "OPENAI_API_KEY=" in workspace.read_file(".env.example")
