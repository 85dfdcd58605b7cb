"""Derive JSON schemas for tools from Python functions, and validate arguments.

The schema comes from the function's type hints (``str``, ``int``, ``float``,
``bool``, ``list[...]``, ``dict[str, ...]``, ``Literal[...]``, ``Optional[...]``)
and its docstring: the first paragraph is the description and a Google-style
``Args:`` section describes each parameter.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, Union

_SECTION_RE = re.compile(r"^(Args|Arguments|Parameters|Params):\s*$")
_ARG_LINE_RE = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def _a(json_type: str) -> str:
    """Return a JSON type name with its article: "an integer", "a string", "null"."""
    if json_type == "null":
        return "null"
    return f"an {json_type}" if json_type[0] in "aeiou" else f"a {json_type}"


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a docstring into its first paragraph and its ``Args:`` descriptions."""
    lines = doc.strip().splitlines()
    summary: list[str] = []
    for line in lines:
        if not line.strip() or _SECTION_RE.match(line.strip()):
            break
        summary.append(line.strip())
    args: dict[str, str] = {}
    in_args = False
    base_indent: int | None = None
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if _SECTION_RE.match(line):
            in_args, base_indent, current = True, None, None
            continue
        if not in_args or not stripped:
            continue
        if indent == 0:  # the next section (Returns:, Raises:, ...) or plain text
            in_args = False
            continue
        if base_indent is None:
            base_indent = indent
        match = _ARG_LINE_RE.match(stripped)
        if indent <= base_indent and match:
            current = match.group(1).lstrip("*")
            args[current] = match.group(2).strip()
        elif current is not None:
            args[current] = f"{args[current]} {stripped}".strip()
    return " ".join(summary), args


def _is_optional(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    return origin in (Union, types.UnionType) and type(None) in typing.get_args(annotation)


def type_schema(annotation: Any) -> dict[str, Any]:
    """Return the JSON schema for a supported Python type annotation."""
    simple = {
        str: "string",
        int: "integer",
        float: "number",
        bool: "boolean",
        list: "array",
        dict: "object",
    }
    if annotation is Any or annotation is inspect.Parameter.empty:
        return {}
    if isinstance(annotation, type) and annotation in simple:
        return {"type": simple[annotation]}
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return type_schema(rest[0])
    elif origin is Literal:
        values = list(args)
        schema: dict[str, Any] = {"enum": values}
        for py_type in (bool, str, int, float):
            if all(type(v) is py_type for v in values):
                schema = {"type": simple[py_type], "enum": values}
                break
        return schema
    elif origin is list:
        if not args or args[0] is Any:
            return {"type": "array"}
        return {"type": "array", "items": type_schema(args[0])}
    elif origin is dict:
        schema = {"type": "object"}
        if len(args) == 2 and args[1] is not Any:
            schema["additionalProperties"] = type_schema(args[1])
        return schema
    raise TypeError(f"Unsupported type annotation for a tool parameter: {annotation!r}")


def _annotated(function: Any) -> Any:
    """Return the object whose annotations describe ``function``'s parameters."""
    if isinstance(function, functools.partial):
        return _annotated(function.func)
    if inspect.isroutine(function) or inspect.isclass(function):
        return function
    return type(function).__call__  # a callable object


def parameters_schema(function: Callable[..., Any], arg_docs: dict[str, str] | None = None) -> dict[str, Any]:
    """Derive the JSON-schema ``parameters`` object from a function's signature."""
    arg_docs = arg_docs or {}
    signature = inspect.signature(function)
    hints = typing.get_type_hints(_annotated(function))
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in signature.parameters.values():
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            raise TypeError(f"Tool parameter {param.name!r} must be a plain named parameter")
        annotation = hints.get(param.name, inspect.Parameter.empty)
        try:
            prop = type_schema(annotation)
        except TypeError as exc:
            raise TypeError(f"Parameter {param.name!r}: {exc}") from None
        if arg_docs.get(param.name):
            prop["description"] = arg_docs[param.name]
        properties[param.name] = prop
        if param.default is inspect.Parameter.empty and not _is_optional(annotation):
            required.append(param.name)
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


class ArgumentError(ValueError):
    """The model's arguments do not match the tool's schema."""


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def check_value(value: Any, schema: dict[str, Any], where: str) -> Any:
    """Validate ``value`` against a simple JSON schema; return it (ints coerced to floats)."""
    expected = schema.get("type")
    allowed = [expected] if isinstance(expected, str) else list(expected or [])
    actual = _json_type(value)
    if allowed and actual not in allowed:
        if actual == "integer" and "number" in allowed:
            try:
                value = float(value)
            except OverflowError:
                raise ArgumentError(f"{where} is too large") from None
        elif actual == "number" and "integer" in allowed and float(value).is_integer():
            value = int(value)
        else:
            wanted = " or ".join(_a(t) for t in allowed)
            raise ArgumentError(f"{where} must be {wanted}, got {_a(actual)}")
    enum = schema.get("enum")
    if enum is not None and not any(value == e and type(value) is type(e) for e in enum):
        options = ", ".join(json.dumps(e) for e in enum)
        raise ArgumentError(f"{where} must be one of {options}, got {json.dumps(value)}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [check_value(v, schema["items"], f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        sub = schema["additionalProperties"]
        return {k: check_value(v, sub, f"{where}[{k!r}]") for k, v in value.items()}
    return value


def decode_arguments(arguments: str) -> dict[str, Any]:
    """The model's raw ``arguments`` as a JSON object (``""`` means ``{}``); :class:`ArgumentError` with a short
    message meant for the model when they are not one."""
    text = arguments.strip() if isinstance(arguments, str) else arguments
    try:
        data = json.loads(text) if text else {}
    except (ValueError, TypeError) as exc:
        raise ArgumentError(f"Arguments are not valid JSON: {exc}") from None
    except RecursionError:
        raise ArgumentError("Arguments are not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise ArgumentError(f"Arguments must be a JSON object, got {_a(_json_type(data))}")
    return data


def parse_arguments(
    tool_name: str,
    parameters: dict[str, Any],
    function: Callable[..., Any],
    arguments: str,
) -> dict[str, Any]:
    """Decode the model's raw ``arguments`` and validate them against ``parameters``.

    Returns keyword arguments for ``function``; raises :class:`ArgumentError`
    with a short message meant for the model.  ``""`` means ``{}``; ``null``
    for an optional parameter means "use the default".
    """
    data = decode_arguments(arguments)
    properties: dict[str, Any] = parameters.get("properties", {})
    required: list[str] = parameters.get("required", [])
    unknown = [key for key in data if key not in properties]
    if unknown:
        expected = ", ".join(properties) or "no parameters"
        raise ArgumentError(f"Unknown parameter '{unknown[0]}' for tool '{tool_name}'. Expected: {expected}")
    missing = [key for key in required if key not in data]
    if missing:
        raise ArgumentError(f"Missing required parameter '{missing[0]}' for tool '{tool_name}'")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if value is None and key not in required:
            continue
        kwargs[key] = check_value(value, properties[key], f"Parameter '{key}'")
    try:
        params = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return kwargs
    for param in params:  # an omitted Optional[...] without a default gets None
        name = param.name
        if name in properties and name not in required and name not in kwargs:
            if param.default is inspect.Parameter.empty:
                kwargs[name] = None
    return kwargs
