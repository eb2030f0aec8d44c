"""Python source as values, read with ``ast`` and never run: the part both Python readers (Keras,
python_keras; PyTorch, python_torch) share — literals, names bound to them, arithmetic, and the
problems of what needs the code to run.

``Evaluator.evaluate`` resolves constants, tuples, lists, dicts, unary and binary arithmetic and
conditional expressions over them; every other kind of expression goes to ``evaluate_other``,
which each reader overrides with what its framework's code means (layer calls, tensors).
Whatever cannot be resolved raises ``Unresolvable``, which the reader turns into a diagnostic at
its line and column.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from ..diagnostics import Diagnostic, Problem
from ..spec.source import Location

OPERATORS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
             ast.FloorDiv: lambda a, b: a // b, ast.Div: lambda a, b: a / b, ast.Mod: lambda a, b: a % b,
             ast.Pow: lambda a, b: a ** b if abs(b) <= 64 else None}
COMPARISONS = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
               ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
               ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b}
CONSTANT_NAMES = {"True": True, "False": False, "None": None}


class Unresolvable(Exception):
    """A value lstmcalc cannot know without running the code; becomes a diagnostic (S018 unless
    ``code`` says otherwise) at ``node``."""

    def __init__(self, message: str, hint: str, node: Optional[ast.AST], code: str = "S018"):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.node = node
        self.code = code


class AlreadyReported(Exception):
    """A value whose problem was reported where it arose; its uses say nothing more."""


@dataclass(frozen=True)
class Unresolved:
    """A name bound to something lstmcalc cannot compute; an error only when the model uses it
    (``reported``: the error was given where the value was made)."""

    message: str
    hint: str
    node: ast.AST
    reported: bool = False


def callee_name(func: ast.AST) -> Optional[str]:
    """``LSTM``, ``layers.LSTM``, ``tf.keras.layers.LSTM``: the class is the last name."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def dotted(func: ast.AST) -> str:
    """``torch.nn.LSTM`` → "torch.nn.LSTM"; the names of an attribute chain, joined."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    return ".".join(reversed(parts))


def is_main_guard(test: ast.AST) -> bool:
    """``if __name__ == "__main__":``."""
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_source(text: str, file: str):
    """The module's ``ast``, or (None, the S018 diagnostic of why it does not parse)."""
    try:
        return ast.parse(text, filename=file), None
    except SyntaxError as error:
        return None, Problem("S018", f"The Python source does not parse: {error.msg}.",
                             "Fix the syntax; lstmcalc reads the code as Python 3.",
                             Location(file, error.lineno, error.offset)).to_diagnostic()
    except (RecursionError, MemoryError, ValueError):
        return None, too_deep(file)


def too_deep(file: str) -> Diagnostic:
    return Problem("S018", "The Python source is nested too deeply to read.", "Simplify it.",
                   Location(file, None, None)).to_diagnostic()


class Evaluator:
    """Names bound to values, and the expressions over them that need no running code."""

    def __init__(self, text: str, file: str, bindings: Optional[Dict[str, Any]] = None,
                 diagnostics: Optional[List[Diagnostic]] = None):
        self.text = text
        self.file = file
        # Values given on the command line (--set): they win over what the module assigns.
        self.bindings: Dict[str, Any] = dict(bindings or {})
        self.diagnostics: List[Diagnostic] = diagnostics if diagnostics is not None else []
        self.names: Dict[str, Any] = dict(self.bindings)

    # -- where and what --------------------------------------------------------------------------

    def at(self, node: Optional[ast.AST]) -> Location:
        if node is None or not hasattr(node, "lineno"):
            return Location(self.file, None, None)
        return Location(self.file, node.lineno, node.col_offset + 1)

    def report(self, problem: Unresolvable) -> None:
        self.diagnostics.append(Problem(problem.code, problem.message, problem.hint, self.at(problem.node))
                                .to_diagnostic())

    def source(self, node: ast.AST, limit: int = 60) -> str:
        """The code of ``node`` on one line, shortened to ``limit`` characters."""
        text = ast.get_source_segment(self.text, node) or ast.dump(node)[:limit]
        text = " ".join(text.split())
        return text if len(text) <= limit else text[:limit - 1] + "…"

    # -- expressions -----------------------------------------------------------------------------

    def evaluate(self, node: ast.AST, scope: Dict[str, Any]) -> Any:
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.lookup(node, scope)
        if isinstance(node, (ast.Tuple, ast.List)):
            values = [self.evaluate(item, scope) for item in node.elts]
            return tuple(values) if isinstance(node, ast.Tuple) else values
        if isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                raise Unresolvable("`**` in a dict cannot be resolved.", "Write the entries out.", node)
            return {self.evaluate(key, scope): self.evaluate(value, scope)
                    for key, value in zip(node.keys, node.values)}
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            operand = self.evaluate(node.operand, scope)
            if isinstance(node.op, ast.Not):
                return not operand
            if is_number(operand):
                return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            left, right = self.evaluate(node.left, scope), self.evaluate(node.right, scope)
            if is_number(left) and is_number(right):
                try:
                    result = OPERATORS[type(node.op)](left, right)
                except (ZeroDivisionError, OverflowError, ValueError):
                    result = None
                if result is not None:
                    return result
            if isinstance(node.op, ast.Add) and isinstance(left, (list, tuple)) and type(left) is type(right):
                return left + right
        if isinstance(node, ast.IfExp):
            chosen = node.body if self.constant_condition(node.test, scope) else node.orelse
            return self.evaluate(chosen, scope)
        return self.evaluate_other(node, scope)

    def evaluate_other(self, node: ast.AST, scope: Dict[str, Any]) -> Any:
        """What the reader makes of expressions beyond literals and arithmetic; by default nothing."""
        raise self.cannot_resolve(node)

    def cannot_resolve(self, node: ast.AST) -> Unresolvable:
        return Unresolvable(f"`{self.source(node)}` cannot be resolved without running the code.",
                            "Write the value as a literal (a number, string, tuple) or a module-level constant.",
                            node)

    def constant_condition(self, node: ast.AST, scope: Dict[str, Any]) -> Any:
        """A condition over resolved values (``bidirectional``, ``n > 1 and bias``): its value;
        raises Unresolvable for anything else."""
        if isinstance(node, ast.BoolOp):
            values = [self.constant_condition(value, scope) for value in node.values]
            if isinstance(node.op, ast.And):
                return next((value for value in values if not value), values[-1])
            return next((value for value in values if value), values[-1])
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARISONS:
            left, right = self.evaluate(node.left, scope), self.evaluate(node.comparators[0], scope)
            try:
                return COMPARISONS[type(node.ops[0])](left, right)
            except TypeError:
                raise self.cannot_resolve(node) from None
        return self.evaluate(node, scope)

    def lookup(self, node: ast.Name, scope: Dict[str, Any]) -> Any:
        if node.id in scope:
            value = scope[node.id]
        elif node.id in self.names and scope is not self.names:
            value = self.names[node.id]
        elif node.id in CONSTANT_NAMES:
            return CONSTANT_NAMES[node.id]
        else:
            raise Unresolvable(f"`{node.id}` is not defined in this code, so its value is unknown.",
                               f"Define it at module level, e.g. `{node.id} = 64`, or give its value: "
                               f"--set {node.id}=64.", node)
        if isinstance(value, Unresolved):
            if value.reported:
                raise AlreadyReported()
            raise Unresolvable(value.message, value.hint, node)
        return value

    def keyword_values(self, node: ast.Call, scope: Dict[str, Any]) -> Dict[str, Any]:
        values = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise Unresolvable("`**kwargs` cannot be resolved without running the code.",
                                   "Pass each argument by name.", keyword.value)
            values[keyword.arg] = self.evaluate(keyword.value, scope)
        return values

    def bind_unresolved(self, target: ast.AST, value: ast.AST, scope: Dict[str, Any], reported: bool) -> None:
        """Every name ``target`` assigns is bound to an Unresolved saying where its value came from."""
        for name in ast.walk(target):
            if isinstance(name, ast.Name) and not (scope is self.names and name.id in self.bindings):
                message = (f"`{name.id}` is set on line {value.lineno} from `{self.source(value)}`, which is "
                           "only known when the code runs; lstmcalc reads it without running it.")
                scope[name.id] = Unresolved(message, f"Write it as a literal, e.g. `{name.id} = 10`, or give its "
                                            f"value: --set {name.id}=10.", name, reported)
