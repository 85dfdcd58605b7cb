"""A safe calculator tool: arithmetic and ``math`` functions, evaluated via ``ast``.

The expression is parsed with :func:`ast.parse` and evaluated by walking the
tree; nothing is ever passed to ``eval``/``exec``.  Only numbers, arithmetic
operators, parentheses, whitelisted ``math`` functions and constants are
allowed, and work that would be enormous (huge powers or factorials, very long
input) is refused up front.

Arithmetic on whole numbers stays exact: ``/`` between them makes a
``Fraction``, so ``2**64 / 7`` keeps every digit of its integer part instead
of rounding to a 15-digit float. Floats come in only with a float operand or
a ``math`` function.
"""

from __future__ import annotations

import ast
import decimal
import math
import operator
from collections.abc import Callable
from fractions import Fraction
from typing import Any

MAX_EXPRESSION_CHARS = 500
MAX_RESULT_DIGITS = 10_000
MAX_FACTORIAL = 1000

Number = int | Fraction | float

_MAX_BITS = int(MAX_RESULT_DIGITS * math.log2(10)) + 1

_BINARY_OPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY_OPS: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_OPERATOR_SYMBOLS = {
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.MatMult: "@",
    ast.Invert: "~",
    ast.Not: "not",
}

CONSTANTS: dict[str, float] = {
    "pi": math.pi,
    "e": math.e,
    "tau": math.tau,
    "inf": math.inf,
}

_MATH_NAMES = (
    "sqrt cbrt exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos atan atan2 "
    "sinh cosh tanh asinh acosh atanh degrees radians hypot floor ceil trunc fabs "
    "factorial gcd lcm comb perm isqrt copysign fmod erf gamma"
).split()
FUNCTIONS: dict[str, Callable[..., Any]] = {name: getattr(math, name) for name in _MATH_NAMES if hasattr(math, name)}
FUNCTIONS.update({"abs": abs, "round": round, "min": min, "max": max, "pow": math.pow})

_NODE_NAMES = {
    ast.Attribute: "Attribute lookups (like x.y)",
    ast.Subscript: "Subscripts (like x[0])",
    ast.Lambda: "Lambdas",
    ast.ListComp: "Comprehensions",
    ast.SetComp: "Comprehensions",
    ast.DictComp: "Comprehensions",
    ast.GeneratorExp: "Comprehensions",
    ast.Compare: "Comparisons",
    ast.BoolOp: "Boolean operators",
    ast.IfExp: "Conditional expressions",
    ast.NamedExpr: "Assignments",
    ast.JoinedStr: "Strings",
    ast.List: "Lists",
    ast.Tuple: "Tuples",
    ast.Dict: "Dicts",
    ast.Set: "Sets",
}


def _check_size(value: Any) -> Number:
    """Return ``value`` (a whole Fraction as an int) if it is a real number within the digit limit, else refuse."""
    if isinstance(value, Fraction):
        if max(value.numerator.bit_length(), value.denominator.bit_length()) > _MAX_BITS:
            raise ValueError(f"Result is too large (more than {MAX_RESULT_DIGITS} digits)")
        return value.numerator if value.denominator == 1 else value
    if isinstance(value, int) and value.bit_length() > _MAX_BITS:
        raise ValueError(f"Result is too large (more than {MAX_RESULT_DIGITS} digits)")
    if isinstance(value, int | float):
        return value
    raise ValueError("Result is not a real number")


def _digits(value: int | Fraction) -> float:
    """Roughly how many digits ``value`` takes to write (its numerator or denominator, the larger)."""
    largest = max(abs(value.numerator), value.denominator)
    return math.log10(largest) if largest > 1 else 0.0


def _power(base: Number, exponent: Number) -> Any:
    """``base ** exponent``, exact for a whole or fractional base and a whole exponent; enormous results refused."""
    if isinstance(base, int | Fraction) and isinstance(exponent, int):
        if abs(exponent) * _digits(base) > MAX_RESULT_DIGITS:
            raise ValueError(f"Power is too large: the result would have more than {MAX_RESULT_DIGITS} digits")
        return Fraction(base) ** exponent
    return operator.pow(float(base) if isinstance(base, Fraction) else base,
                        float(exponent) if isinstance(exponent, Fraction) else exponent)


_EXACT_FUNCTIONS = frozenset({"abs", "round", "min", "max", "floor", "ceil", "trunc"})
"""Functions that take a Fraction as it is; the others get it as a float."""


def _call(name: str, args: list[Number]) -> Any:
    """Call a whitelisted function, guarding the ones that can explode."""
    if name == "factorial" and args and isinstance(args[0], int):
        if args[0] > MAX_FACTORIAL:
            raise ValueError(f"factorial() argument is too large (maximum {MAX_FACTORIAL})")
    if name in ("comb", "perm") and any(isinstance(a, int) and a > MAX_FACTORIAL for a in args):
        raise ValueError(f"{name}() arguments are too large (maximum {MAX_FACTORIAL})")
    if name == "round" and len(args) > 1 and not -MAX_FACTORIAL <= args[1] <= MAX_FACTORIAL:
        raise ValueError(f"round() digits are too large (maximum {MAX_FACTORIAL})")
    if name not in _EXACT_FUNCTIONS:
        args = [float(a) if isinstance(a, Fraction) else a for a in args]
    try:
        return FUNCTIONS[name](*args)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}(): {exc}") from None


def _evaluate(node: ast.AST) -> Number:
    """Evaluate one node of the parsed expression."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            kind = type(value).__name__
            raise ValueError(f"Only numbers are allowed, not {kind} values")
        return value
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        if op not in _BINARY_OPS:
            symbol = _OPERATOR_SYMBOLS.get(op, op.__name__)
            hint = " (use ** for powers)" if op is ast.BitXor else ""
            raise ValueError(f"Operator {symbol} is not supported{hint}")
        left, right = _evaluate(node.left), _evaluate(node.right)
        if op is ast.Pow:
            return _check_size(_power(left, right))
        if op is ast.Div and isinstance(left, int | Fraction) and isinstance(right, int | Fraction):
            return _check_size(Fraction(left) / right)  # exact: 2**64 / 7 keeps all its digits
        return _check_size(_BINARY_OPS[op](left, right))
    if isinstance(node, ast.UnaryOp):
        uop = type(node.op)
        if uop not in _UNARY_OPS:
            symbol = _OPERATOR_SYMBOLS.get(uop, uop.__name__)
            raise ValueError(f"Operator {symbol} is not supported")
        return _check_size(_UNARY_OPS[uop](_evaluate(node.operand)))
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise ValueError(f"{node.id} is a function; call it like {node.id}(x)")
        allowed = ", ".join(CONSTANTS)
        raise ValueError(f"Unknown name '{node.id}'; allowed constants: {allowed}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ValueError("Only calls to math functions like sqrt(x) are allowed")
        name = node.func.id
        if name not in FUNCTIONS:
            allowed = ", ".join(sorted(FUNCTIONS))
            raise ValueError(f"Unknown function '{name}'; allowed: {allowed}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ValueError(f"{name}() takes positional arguments only")
        return _check_size(_call(name, [_evaluate(a) for a in node.args]))
    what = _NODE_NAMES.get(type(node), f"{type(node).__name__} expressions")
    raise ValueError(f"{what} are not allowed in a calculator expression")


def format_number(value: Number) -> str:
    """Format a result: integers exactly, fractions with every digit before the point and 15
    significant ones after it, floats with up to 15 significant digits."""
    if isinstance(value, Fraction):
        whole = abs(value.numerator) // value.denominator
        whole_digits = decimal.Decimal(whole).adjusted() + 1 if whole else 0  # str() refuses > 4300 digits
        context = decimal.Context(prec=whole_digits + 15, Emax=decimal.MAX_EMAX,
                                  Emin=decimal.MIN_EMIN)
        quotient = context.divide(decimal.Decimal(value.numerator), decimal.Decimal(value.denominator))
        quotient = quotient.normalize(context)
        text = f"{quotient:f}" if quotient.adjusted() >= -20 else str(quotient)
        return text if text != "-0" else "0"
    if isinstance(value, int):
        # Decimal sidesteps the int->str digit limit that Python 3.11 enforces.
        return str(value) if value.bit_length() < 10_000 else str(decimal.Decimal(value))
    if math.isnan(value) or math.isinf(value):
        return repr(value)
    text = f"{value:.15g}"
    return text if text != "-0" else "0"


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression exactly and return the result as text.
    Supports numbers, + - * / // % ** and parentheses, the constants pi, e and tau,
    and math functions: sqrt, cbrt, exp, log (natural; log(x, base) for another
    base), log2, log10, sin, cos, tan, asin, acos, atan, atan2, hypot, degrees,
    radians (trigonometry uses radians), floor, ceil, round, abs, min, max,
    factorial, gcd, lcm, comb, perm. Use it for any arithmetic you are not sure of.

    Args:
        expression: The expression to evaluate, e.g. "sqrt(2) * (3 + 4)**2".
    """
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"Expression is too long ({len(expression)} characters; maximum {MAX_EXPRESSION_CHARS})")
    if not expression.strip():
        raise ValueError("Expression is empty")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"Invalid expression: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ValueError("Expression is too deeply nested") from None
    try:
        value = _evaluate(tree)
    except ZeroDivisionError:
        raise ValueError("Division by zero") from None
    except OverflowError:
        raise ValueError("Result is too large to represent") from None
    except RecursionError:
        raise ValueError("Expression is too deeply nested") from None
    return format_number(value)
