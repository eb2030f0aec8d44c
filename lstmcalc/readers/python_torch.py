"""PyTorch source as a ModelSpec (``framework: pytorch``), read with ``ast`` — never imported, never run.

Read: one ``nn.Module`` subclass (``--class`` picks one when the file defines several). Its
``__init__`` assigns modules — ``nn.LSTM``, ``torch.nn.LSTM``, ``from torch import nn``, ``from
torch.nn import LSTM`` — with its keyword defaults, ``--set`` values and module-level constants
resolved, and ``nn.Sequential`` blocks (their modules named ``head.0``, ``head.1``, as
named_modules() names them). Its ``forward`` is a straight data flow: one chain, each operation
on the result of the one before, or a graph — several inputs (``forward(self, a, b)``), tensors
used again, joins (``torch.cat((a, b), dim=-1)``, ``a + b``, ``a - b``, ``a * b``, ``(a + b) / 2``,
``torch.maximum``, ``torch.minimum``: the steps of ``join_types()``), states forward() computes
passed to a recurrent module (its ``initial_state``) and a tuple returned (the spec's ``outputs:``),
each tensor a reference in the spec's ``inputs:``. Module calls; tuple unpacking (``out, (h, c) = self.lstm(x)``); the last step
(``out[:, -1, :]``, ``out[-1]``, ``h[-1]``, ``torch.cat((h[-2], h[-1]), dim=1)``), which becomes
lstmcalc's LastStep where the producing module says it is one; ``permute``, ``transpose``,
``view``/``reshape`` to (batch, -1), ``flatten`` and activations written as functions
(``torch.relu``, ``F.relu``, ``x.relu()``), which become the modules or spec steps computing them.
Modules forward() never calls are kept with ``called: false``: their parameters count.

The input is not in a module's code: ``--input`` gives one sample without the batch axis, which
goes first, or second when the first recurrent module reads batch_first=False.

Whatever needs the code to run — a size from a config object or a constructor argument without a
default, modules built in a loop, a branch or loop in forward — is a diagnostic at its line saying
what could not be resolved and how to give it (``--set hidden_size=128``): never a guess.

An operation of forward() that is no module is named by the variable it is assigned to (when
forward assigns that variable once), else by what it does: ``last_step``, ``relu``, ``relu_1``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from ..diagnostics import Diagnostic
from ..layers.frameworks import PYTORCH
from ..layers.torch_module import TORCH_DTYPES
from ..layers.torch_steps import LAST_STATE, LAST_TWO_STATES, STEP, last_step_type
from ..spec.model import Argument, InputDef, LayerDef, ModelSpec, Reference
from .python_values import (AlreadyReported, Evaluator, Unresolvable, Unresolved, dotted, is_main_guard,
                            parse_source, too_deep)

Read = Tuple[Optional[ModelSpec], List[Diagnostic]]

# torch's API (not layer types): where modules, functions and the base class live.
TORCH = "torch"
NN = "torch.nn"
FUNCTIONAL = "torch.nn.functional"
MODULE_BASE = "torch.nn.Module"
LOOP_CONTAINERS = ("ModuleList", "ModuleDict")
CONCATENATIONS = ("cat", "concat", "concatenate")
RESHAPES = ("view", "reshape")
SIZES = ("size",)
# Tensor methods that return the tensor's values unchanged, as far as shapes and counts go.
SAME_TENSOR = ("contiguous", "clone", "detach")
# torch's tensors of zeros (initial states written out), and what moves them without a change.
ZEROS = ("zeros",)
SAME_ZEROS = ("to", "cuda", "cpu", "detach", "requires_grad_", "float", "contiguous")
# Calls in __init__ that initialise weights or say something, and change no module.
INIT_CALLS = ("torch.nn.init", "torch.manual_seed", "print")


@dataclass(frozen=True)
class SourceOptions:
    """What a PyTorch source does not say: one input sample's shape (without the batch axis), its
    dtype (None: int64 when it goes into an Embedding, else float32), the batch size, and which
    nn.Module class to read when the file defines several."""

    input_shape: Optional[Tuple[Optional[int], ...]] = None
    dtype: Optional[str] = None
    batch_size: Optional[int] = None
    class_name: Optional[str] = None
    # forward()'s further inputs (a graph's): one sample's shape each, and their dtypes (None: as above).
    more_inputs: Tuple[Tuple[Optional[int], ...], ...] = ()
    more_dtypes: Tuple[Optional[str], ...] = ()


@dataclass
class Module:
    """A torch.nn module assigned in __init__; ``calls`` counts forward()'s calls of it."""

    definition: LayerDef
    node: ast.AST
    calls: int = 0

    @property
    def path(self) -> str:
        own = self.definition.explicit_name or str(self.definition.index)
        return f"{self.definition.scope}.{own}" if self.definition.scope else own


@dataclass
class Container:
    """An nn.Sequential: its modules in order (containers nested)."""

    path: str
    modules: List[Union[Module, "Container"]]
    node: ast.AST
    calls: int = 0

    def leaves(self) -> List[Module]:
        found: List[Module] = []
        for item in self.modules:
            found += item.leaves() if isinstance(item, Container) else [item]
        return found


@dataclass(frozen=True)
class Tensor:
    """Output ``index`` of a spec node (the input or a module or step); None: its only output."""

    node: str
    index: Optional[int] = None


@dataclass(frozen=True)
class Selection:
    """An index into a tensor that is not yet an operation: ``out[:, -1, :]`` (``STEP`` on ``axis``),
    ``h[-1]`` (``LAST_STATE``) or ``h[-2]`` (a row, joined by torch.cat)."""

    tensor: Tensor
    kind: str
    node: ast.AST
    axis: Optional[int] = None


@dataclass(frozen=True)
class Dimension:
    """``x.size(0)`` or ``x.shape[0]``: a size only known when the code runs."""

    tensor: Tensor
    axis: int


@dataclass(frozen=True)
class Shape:
    """``x.shape``."""

    tensor: Tensor


@dataclass(frozen=True)
class Zeros:
    """``torch.zeros(num_layers, x.size(0), hidden)``: a tensor of zeros, as h_0 or c_0 — what
    torch uses when no state is given; its shape is checked against the module's once known."""

    sizes: Tuple[Any, ...]
    node: ast.AST


@dataclass(frozen=True)
class Method:
    """``self.helper``: a method of the class, which lstmcalc does not follow."""

    name: str


ROW = "row"  # h[-2]: half of torch.cat((h[-2], h[-1]), dim=1)
# The operators forward() writes between tensors (a join each), as join_types() keys them.
TENSOR_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}


def functional_modules() -> Dict[str, Any]:
    """torch's function and tensor-method names → the module class (or spec step) computing them,
    from the layer registry (``functional_names``)."""
    from ..layers.registry import all_layer_classes

    return {name: cls for cls in all_layer_classes(PYTORCH).values() for name in getattr(cls, "functional_names", ())}


class TorchReader(Evaluator):
    """Reads one nn.Module class: __init__'s modules, then forward()'s data flow."""

    def __init__(self, text: str, file: str, bindings: Optional[Dict[str, Any]], options: SourceOptions):
        super().__init__(text, file, bindings)
        self.options = options
        self.aliases: Dict[str, str] = {}  # local name → torch's qualified name
        self.functions = functional_modules()
        from ..layers.torch_merge import join_types

        self.last_step = last_step_type()
        self.join_types = join_types()
        self.phase = "module"
        self.class_node: Optional[ast.ClassDef] = None
        self.attributes: Dict[str, Any] = {}  # self.<name> = ... in __init__
        self.order: List[Union[Module, Container]] = []  # modules and containers in __init__ order
        self.methods: Dict[str, ast.FunctionDef] = {}
        self.module_class_names: set = set()
        self.init_stack: List[ast.FunctionDef] = []
        self.class_nodes: Dict[str, ast.ClassDef] = {}
        self.without_default: Dict[str, str] = {}  # constructor arguments lstmcalc has no value for
        # forward(): the spec's layers in call order, the last node (the chain's head), names taken.
        self.layers: List[LayerDef] = []
        self.head = ""
        self.input_name = ""
        self.first_consumer: Optional[LayerDef] = None
        # forward()'s inputs (its arguments) as spec inputs, and its data flow: whether it is a graph
        # rather than one chain, and what each node reads (node → inputs, initial states, as a list).
        self.input_names: List[str] = []
        self.graph = False
        self.wiring: Dict[str, Tuple[List[Tensor], List[Tensor], bool]] = {}
        self.outputs: List[Tensor] = []
        self.materialised: Dict[Selection, Tensor] = {}  # a selection used more than once is one step
        self.taken: Dict[str, int] = {}
        self.names_for: Dict[int, str] = {}  # id(expression) → the variable forward() assigns it to
        self.built: Dict[str, Any] = {}  # spec node name → its Layer (for the modules' own facts)
        self.checks: List[Tuple[LayerDef, ast.AST, Callable[[Any], Optional[Tuple[str, str]]]]] = []
        self.failed = False

    # -- the module --------------------------------------------------------------------------------

    def read(self, tree: ast.Module) -> Read:
        self.module_statements(tree.body)
        cls = self.choose_class(tree)
        if cls is None:
            return None, self.diagnostics
        self.class_node = cls
        self.methods = self.class_methods(cls)
        init, forward = self.methods.get("__init__"), self.methods.get("forward")
        if forward is None:
            self.fail(Unresolvable(f"`{cls.name}` has no forward() method, so lstmcalc cannot tell how its modules "
                                   "are applied.", "Define forward(self, x) in the class itself.", cls, "S020"))
            return None, self.diagnostics
        if init is not None:
            self.phase = "init"
            self.run_init(init)
        self.phase = "forward"
        self.run_forward(forward)
        if self.failed:
            return None, self.diagnostics
        spec = self.spec(cls, forward)
        if spec is None:
            return None, self.diagnostics
        self.post_checks(spec)
        return spec, self.diagnostics

    def module_statements(self, body: Sequence[ast.stmt]) -> None:
        """Imports and module-level constants; everything else at module level is not the model."""
        for statement in body:
            if isinstance(statement, ast.Import):
                for alias in statement.names:
                    if alias.asname:
                        self.aliases[alias.asname] = alias.name
                    else:
                        self.aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
            elif isinstance(statement, ast.ImportFrom) and statement.module:
                for alias in statement.names:
                    self.aliases[alias.asname or alias.name] = f"{statement.module}.{alias.name}"
            elif isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                try:
                    value = self.evaluate(statement.value, self.names)
                except (Unresolvable, AlreadyReported, RecursionError):
                    for target in targets:
                        self.bind_unresolved(target, statement.value, self.names, False)
                    continue
                for target in targets:
                    self.bind_constant(target, value)
            elif isinstance(statement, ast.If) and is_main_guard(statement.test):
                continue  # how the file is run, not the model

    def bind_constant(self, target: ast.AST, value: Any) -> None:
        if isinstance(target, ast.Name):
            if target.id not in self.bindings:
                self.names[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (tuple, list)) \
                and len(value) == len(target.elts):
            for element, item in zip(target.elts, value):
                self.bind_constant(element, item)

    def qualified(self, node: ast.AST) -> str:
        """torch's name of ``nn.LSTM``, ``torch.nn.LSTM``, ``F.relu`` or an imported ``LSTM``."""
        name = dotted(node)
        if not name:
            return ""
        head, _, rest = name.partition(".")
        if head in self.aliases:
            head = self.aliases[head]
        return f"{head}.{rest}" if rest else head

    def torch_member(self, node: ast.AST, namespace: str) -> Optional[str]:
        """``LSTM`` for ``nn.LSTM`` when ``namespace`` is torch.nn (its direct members only)."""
        name = self.qualified(node)
        prefix = namespace + "."
        if name.startswith(prefix) and "." not in name[len(prefix):]:
            return name[len(prefix):]
        return None

    def module_classes(self, tree: ast.Module) -> List[ast.ClassDef]:
        """Classes deriving from nn.Module, directly or through other classes of the file."""
        found: List[ast.ClassDef] = []
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and any(self.qualified(base) == MODULE_BASE or
                                                      isinstance(base, ast.Name) and base.id in
                                                      {known.name for known in found} for base in node.bases):
                found.append(node)
        self.module_class_names = {node.name for node in found}
        self.class_nodes = {node.name: node for node in found}
        return found

    def class_methods(self, cls: ast.ClassDef) -> Dict[str, ast.FunctionDef]:
        """Its methods, with those it inherits from module classes of the file."""
        methods: Dict[str, ast.FunctionDef] = {}
        for base in cls.bases:
            if isinstance(base, ast.Name) and base.id in self.class_nodes and self.class_nodes[base.id] is not cls:
                methods.update(self.class_methods(self.class_nodes[base.id]))
        methods.update({item.name: item for item in cls.body if isinstance(item, ast.FunctionDef)})
        return methods

    def choose_class(self, tree: ast.Module) -> Optional[ast.ClassDef]:
        classes = self.module_classes(tree)
        wanted = self.options.class_name
        if wanted is not None:
            chosen = next((node for node in classes if node.name == wanted), None)
            if chosen is None:
                others = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
                what = "is not an nn.Module subclass" if wanted in others else "is not defined in this file"
                names = ", ".join(node.name for node in classes) or "none"
                self.report(Unresolvable(f"--class {wanted}: that class {what}; its nn.Module classes: {names}.",
                                         "Give the name of one of them.", None, "S023"))
            return chosen
        if not classes:
            self.report(Unresolvable("No nn.Module subclass found: lstmcalc reads a class deriving from nn.Module "
                                     "(torch.nn.Module) with __init__ and forward().",
                                     "Define the model as `class Model(nn.Module):` at module level.", None, "S023"))
            return None
        if len(classes) > 1:
            names = ", ".join(node.name for node in classes)
            self.report(Unresolvable(f"The file defines {len(classes)} nn.Module classes ({names}); lstmcalc reads "
                                     "one.", f"Name it: --class {classes[0].name}.", classes[1], "S023"))
            return None
        return classes[0]

    # -- problems ----------------------------------------------------------------------------------

    def fail(self, problem: Unresolvable) -> None:
        self.report(problem)
        self.failed = True

    def statements(self, body: Sequence[ast.stmt], scope: Dict[str, Any], run: Callable) -> Any:
        """Run ``body`` statement by statement: a problem is reported at its statement, the names
        that statement would bind become unknown, and reading goes on."""
        for statement in body:
            try:
                result = run(statement, scope)
            except Unresolvable as problem:
                self.fail(problem)
                self.forget(statement, scope)
                continue
            except AlreadyReported:
                self.failed = True
                self.forget(statement, scope)
                continue
            except RecursionError:
                self.diagnostics.append(too_deep(self.file))
                self.failed = True
                return None
            if isinstance(statement, ast.Return):
                return result
        return None

    def forget(self, statement: ast.stmt, scope: Dict[str, Any]) -> None:
        """The names and self-attributes ``statement`` assigns, as already reported."""
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                scope[node.id] = Unresolved("", "", node, True)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and self.is_self(node.value):
                self.attributes[node.attr] = Unresolved("", "", node, True)

    @staticmethod
    def says_nothing(node: ast.stmt) -> bool:
        """``pass``, an ``assert``, a docstring."""
        return isinstance(node, (ast.Pass, ast.Assert)) or (isinstance(node, ast.Expr) and
                                                            isinstance(node.value, ast.Constant))

    @staticmethod
    def is_self(node: ast.AST) -> bool:
        return isinstance(node, ast.Name) and node.id == "self"

    # -- __init__ ----------------------------------------------------------------------------------

    def run_init(self, init: ast.FunctionDef, given: Optional[Dict[str, Any]] = None) -> None:
        scope = self.parameters(init)
        scope.update(given or {})
        self.init_stack.append(init)
        try:
            self.statements(init.body, scope, self.init_statement)
        finally:
            self.init_stack.pop()

    def base_init(self, node: ast.Call, scope: Dict[str, Any]) -> None:
        """``super().__init__(...)`` of a class deriving from another module class of the file: that
        class's __init__, with the arguments given (nn.Module's own __init__ assigns nothing)."""
        current = self.init_stack[-1] if self.init_stack else None
        owner = next((cls for cls in self.class_nodes.values() if current in cls.body), None)
        base = next((self.class_nodes[item.id] for item in (owner.bases if owner else [])
                     if isinstance(item, ast.Name) and item.id in self.class_nodes), None)
        init = self.class_methods(base).get("__init__") if base is not None else None
        if init is None:
            return
        names = [argument.arg for argument in init.args.posonlyargs + init.args.args][1:]
        explicit = isinstance(node.func.value, ast.Name)  # Base.__init__(self, ...): self is passed
        given = dict(zip(names, [self.evaluate(argument, scope) for argument in node.args[1 if explicit else 0:]]))
        given.update(self.keyword_values(node, scope))
        self.run_init(init, given)

    def parameters(self, init: ast.FunctionDef) -> Dict[str, Any]:
        """The constructor's arguments: --set values, else their defaults (module scope)."""
        arguments = init.args
        names = [argument.arg for argument in arguments.posonlyargs + arguments.args][1:]
        defaults = dict(zip(names[len(names) - len(arguments.defaults):], arguments.defaults))
        defaults.update({argument.arg: default for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults)
                         if default is not None})
        names += [argument.arg for argument in arguments.kwonlyargs]
        scope: Dict[str, Any] = {}
        cls = self.class_node.name if self.class_node else "the class"
        for name in names:
            if name in self.bindings:
                scope[name] = self.bindings[name]
            elif name in defaults:
                try:
                    scope[name] = self.evaluate(defaults[name], self.names)
                except Unresolvable as problem:
                    scope[name] = Unresolved(problem.message, problem.hint, defaults[name])
                except AlreadyReported:
                    scope[name] = Unresolved("", "", defaults[name], True)
            else:
                self.without_default[name] = cls
                scope[name] = Unresolved(
                    f"`{name}` is an argument of {cls}.__init__ without a default: its value is only known when the "
                    "model is constructed, and lstmcalc reads the code without running it.",
                    f"Give it: --set {name}=64 (or a default in __init__).", init)
        for argument in (arguments.vararg, arguments.kwarg):
            if argument is not None:
                scope[argument.arg] = Unresolved(
                    f"`{argument.arg}` collects arguments given when the model is constructed, which lstmcalc does "
                    "not see.", "Name each argument with a default in __init__.", init)
        return scope

    def init_statement(self, node: ast.stmt, scope: Dict[str, Any]) -> Any:
        if self.says_nothing(node):
            return None
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            return self.init_call(node.value, scope)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = self.evaluate(node.value, scope)
            for target in targets:
                self.init_bind(target, value, scope, node)
            return None
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            value = self.evaluate(ast.BinOp(left=ast.Name(id=node.target.id, ctx=ast.Load()), op=node.op,
                                            right=node.value, lineno=node.lineno, col_offset=node.col_offset), scope)
            scope[node.target.id] = value
            return None
        if isinstance(node, ast.If):
            try:
                test = self.constant_condition(node.test, scope)
            except Unresolvable:
                raise Unresolvable(f"__init__ branches on `{self.source(node.test)}`, which is only known when the "
                                   "code runs; lstmcalc cannot tell which modules it assigns.",
                                   "Give the values the condition reads with --set, or keep one branch in a copy of "
                                   "the model.", node.test) from None
            return self.statements(node.body if test else node.orelse, scope, self.init_statement)
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
            raise Unresolvable(f"__init__ has a loop (line {node.lineno}); lstmcalc does not run code, so it cannot "
                               "tell which modules it builds or what it changes.",
                               "Assign each module on its own line (self.lstm1 = nn.LSTM(...), self.lstm2 = ...).",
                               node)
        raise Unresolvable(f"`{self.source(node)}` in __init__ is not read by lstmcalc.",
                           "Assign modules and constants only (self.fc = nn.Linear(64, 1)).", node, "S020")

    def init_call(self, node: ast.Call, scope: Dict[str, Any]) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "__init__":
            return self.base_init(node, scope)  # super().__init__(), nn.Module.__init__(self)
        name = self.qualified(func)
        if any(name == prefix or name.startswith(prefix + ".") for prefix in INIT_CALLS):
            return None
        if isinstance(func, ast.Attribute) and self.is_self(func.value):
            raise Unresolvable(f"__init__ calls `self.{func.attr}(...)`, which lstmcalc does not follow: modules it "
                               "assigns or changes would go uncounted.",
                               "Assign the modules in __init__ itself.", node, "S020")
        return None  # a call for its effect elsewhere (seeding, logging) changes no module

    def init_bind(self, target: ast.AST, value: Any, scope: Dict[str, Any], node: ast.AST) -> None:
        if isinstance(target, ast.Attribute) and self.is_self(target.value):
            self.attribute(target.attr, value, node)
        elif isinstance(target, ast.Name):
            if isinstance(value, (Module, Container)):
                raise Unresolvable(f"`{target.id}` holds a module that is not assigned to `self`, so it is not "
                                   "registered in the model.", f"Assign it: self.{target.id} = ...", node, "S020")
            scope[target.id] = value
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (tuple, list)) \
                and len(value) == len(target.elts):
            for element, item in zip(target.elts, value):
                self.init_bind(element, item, scope, node)
        else:
            raise Unresolvable(f"The assignment to `{self.source(target)}` is not read by lstmcalc (it may change a "
                               "module or its parameters).", "Assign modules to self.<name> only.", target, "S020")

    def attribute(self, name: str, value: Any, node: ast.AST) -> None:
        existing = self.attributes.get(name)
        if isinstance(existing, (Module, Container)):
            raise Unresolvable(f"`self.{name}` is assigned a second time; torch keeps the last module, lstmcalc "
                               "reads each once.", "Assign each module once.", node, "S020")
        if isinstance(value, Module):
            value.definition.keywords["name"] = Argument(name, self.at(node))
            value.definition.location = self.at(node)  # the line that assigns it
            self.order.append(value)
        elif isinstance(value, Container):
            self.name_container(value, name, None)
            self.order.append(value)
        self.attributes[name] = value

    def name_container(self, container: Container, name: str, scope: Optional[str]) -> None:
        container.path = f"{scope}.{name}" if scope else name
        for position, item in enumerate(container.modules):
            if isinstance(item, Module):
                item.definition.scope = container.path
                if item.definition.index is None:
                    item.definition.index = position
            else:
                self.name_container(item, item.path or str(position), container.path)

    # -- expressions beyond constants ----------------------------------------------------------

    def evaluate_other(self, node: ast.AST, scope: Dict[str, Any]) -> Any:
        if isinstance(node, ast.Attribute):
            return self.attribute_value(node, scope)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.DictComp, ast.SetComp)):
            raise Unresolvable(f"`{self.source(node)}` builds values in a loop; lstmcalc does not run code, so it "
                               "cannot tell how many modules it makes or which.",
                               "Assign each module on its own line (self.lstm1 = nn.LSTM(...), self.lstm2 = ...), "
                               "or build the model in a spec file.", node)
        if isinstance(node, ast.Call):
            return self.init_value(node, scope) if self.phase != "forward" else self.forward_call(node, scope)
        if isinstance(node, ast.Subscript) and self.phase == "forward":
            return self.subscript(node, scope)
        if isinstance(node, ast.BinOp) and self.phase == "forward" and (
                isinstance(self.evaluate(node.left, scope), (Tensor, Selection))
                or isinstance(self.evaluate(node.right, scope), (Tensor, Selection))):
            # An operator these tensors have that is no join lstmcalc models (`a / b`, `a @ b`).
            raise Unresolvable(f"`{self.source(node)}` computes on tensors with an operator lstmcalc does not model; "
                               "it reads the joins a + b, a - b, a * b and (a + b) / 2 of tensors.",
                               "Describe the model in a spec file.", node, "S020")
        raise self.cannot_resolve(node)

    def attribute_value(self, node: ast.Attribute, scope: Dict[str, Any]) -> Any:
        if self.is_self(node.value):
            if node.attr in self.attributes:
                value = self.attributes[node.attr]
                if isinstance(value, Unresolved):
                    if value.reported:
                        raise AlreadyReported()
                    raise Unresolvable(value.message, value.hint, node)
                return value
            if node.attr in self.methods:
                return Method(node.attr)
            if node.attr == "training":
                raise Unresolvable("`self.training` is True while training and False in eval mode; lstmcalc reads "
                                   "one data flow.", "Keep the eval-mode flow in a copy of the model.", node)
            raise Unresolvable(f"`self.{node.attr}` is not assigned in __init__.", "Assign it in __init__.", node)
        dtype = self.torch_member(node, TORCH)
        if dtype in TORCH_DTYPES:
            return f"torch.{dtype}"  # dtype=torch.float64
        if isinstance(node.value, ast.Name) and isinstance(scope.get(node.value.id), Unresolved) \
                and node.value.id in self.without_default:
            owner = node.value.id
            raise Unresolvable(
                f"`{self.source(node)}` reads `{node.attr}` from `{owner}`, an argument of "
                f"{self.without_default[owner]}.__init__ without a default — an object lstmcalc cannot see into "
                "without running the code.",
                f"Give the sizes as constructor arguments with defaults (def __init__(self, {node.attr}=...)), or give "
                f"the object's values: --set \"{owner}={{'{node.attr}': ...}}\".", node)
        if self.phase == "forward":
            value = self.evaluate(node.value, scope)
            if isinstance(value, Tensor) and node.attr == "shape":
                return Shape(value)
            if isinstance(value, Tensor) and node.attr == "device":
                return None  # h0.to(x.device): where a tensor is, which changes nothing here
        else:
            value = self.evaluate(node.value, scope)
        if isinstance(value, dict) and node.attr in value:
            return value[node.attr]  # a config given with --set "config={'hidden_size': 48}"
        raise self.cannot_resolve(node)

    def init_value(self, node: ast.Call, scope: Dict[str, Any]) -> Any:
        """A call in __init__ (or a module-level constant): a torch.nn module or container, an
        OrderedDict of them, or nothing lstmcalc can compute."""
        member = self.torch_member(node.func, NN)
        if member is not None and self.phase == "init":
            if member in LOOP_CONTAINERS:
                raise Unresolvable(f"nn.{member} holds modules that forward() applies in a loop; lstmcalc reads "
                                   "forward() as one data flow and does not run the loop.",
                                   "Assign each module to its own attribute and call each in forward().", node)
            from ..layers.torch_module import CONTAINERS

            if member in CONTAINERS:
                return self.container(node, member, scope)
            if member[:1].isupper():
                return self.module(node, member, scope)
        if isinstance(node.func, ast.Name) and node.func.id in self.module_class_names:
            raise Unresolvable(f"`{self.source(node)}` is a module of the class {node.func.id} defined in this file; "
                               "lstmcalc reads one nn.Module class and the torch.nn modules it assigns.",
                               f"Read {node.func.id} on its own (--class {node.func.id}), or write its modules out "
                               "in this class.", node, "S020")
        if self.qualified(node.func) in ("collections.OrderedDict", "OrderedDict") and len(node.args) == 1:
            items = self.evaluate(node.args[0], scope)
            if isinstance(items, (list, tuple)) and all(isinstance(item, tuple) and len(item) == 2 for item in items):
                return dict(items)
        raise Unresolvable(f"`{self.source(node)}` is a call lstmcalc does not run.",
                           "Write the value as a literal, a module-level constant or a torch.nn module.", node)

    def module(self, node: ast.Call, type_name: str, scope: Dict[str, Any]) -> Module:
        where = self.at(node)
        definition = LayerDef(type_name, where, self.at(node.func), source=self.source(node, 200))
        for argument in node.args:
            if isinstance(argument, ast.Starred):
                raise Unresolvable("`*args` cannot be resolved without running the code.", "Pass each argument.",
                                   argument)
            definition.positional.append(Argument(self.evaluate(argument, scope), self.at(argument)))
        for keyword in node.keywords:
            if keyword.arg is None:
                raise Unresolvable("`**kwargs` cannot be resolved without running the code.",
                                   "Pass each argument by name.", keyword.value)
            definition.keywords[keyword.arg] = Argument(self.evaluate(keyword.value, scope), self.at(keyword.value))
        return Module(definition, node)

    def container(self, node: ast.Call, type_name: str, scope: Dict[str, Any]) -> Container:
        if node.keywords:
            raise Unresolvable(f"nn.{type_name} takes its modules only.", "Pass the modules in order.", node)
        items = [self.evaluate(argument, scope) for argument in node.args]
        if len(items) == 1 and isinstance(items[0], dict):
            # nn.Sequential(OrderedDict([("fc", nn.Linear(...)), ...])): the modules are named.
            modules = []
            for name, item in items[0].items():
                if isinstance(item, Module):
                    item.definition.keywords["name"] = Argument(str(name), item.definition.location)
                elif isinstance(item, Container):
                    item.path = str(name)
                modules.append(item)
            items = modules
        for item, argument in zip(items, node.args):
            if not isinstance(item, (Module, Container)):
                raise Unresolvable(f"`{self.source(argument)}` is not a torch.nn module.",
                                   f"nn.{type_name} takes modules, e.g. nn.Linear(64, 1).", argument)
        for position, item in enumerate(items):
            if isinstance(item, Container) and not item.path:
                item.path = str(position)
        return Container("", list(items), node)

    # -- forward() ---------------------------------------------------------------------------------

    def run_forward(self, forward: ast.FunctionDef) -> None:
        arguments = forward.args
        names = [argument.arg for argument in arguments.posonlyargs + arguments.args][1:]
        defaults = dict(zip(names[len(names) - len(arguments.defaults):], arguments.defaults))
        if not names:
            self.fail(Unresolvable("forward() takes no input.", "Write forward(self, x).", forward, "S020"))
            return
        if arguments.vararg or arguments.kwonlyargs and any(d is None for d in arguments.kw_defaults):
            self.fail(Unresolvable("forward() takes inputs it does not name (*args, or keyword-only arguments "
                                   "without a default); lstmcalc reads forward(self, x) or forward(self, a, b, ...).",
                                   "Name each input of forward().", forward, "S020"))
            return
        used = {node.id for node in ast.walk(forward) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
        tensors = names[:1] + [name for name in names[1:] if name not in defaults]
        for name in names[len(tensors):]:
            if name in used and not (isinstance(defaults[name], ast.Constant) and defaults[name].value is None):
                self.fail(Unresolvable(f"forward() uses its argument `{name}`, whose value comes from the caller.",
                                       "Read a model whose forward takes one tensor.", defaults[name], "S020"))
                return
        modules = {item.path for item in self.order} | {leaf.path for item in self.order if isinstance(item, Container)
                                                        for leaf in item.leaves()}
        self.input_names = [f"{name}_input" if name in modules else name for name in tensors]
        self.input_name = self.input_names[0]
        self.graph = len(tensors) > 1
        self.taken = {name: 1 for name in modules | set(self.input_names)}
        self.head = self.input_name
        assigned: Dict[str, int] = {}
        for node in ast.walk(forward):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                assigned[node.id] = assigned.get(node.id, 0) + 1
        for node in ast.walk(forward):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and assigned.get(node.targets[0].id) == 1:
                self.names_for[id(node.value)] = node.targets[0].id
        scope: Dict[str, Any] = {name: Tensor(node) for name, node in zip(tensors, self.input_names)}
        scope.update({name: None for name in names[len(tensors):]})
        returned = self.statements(forward.body, scope, self.forward_statement)
        if self.failed:
            return
        if not any(isinstance(node, ast.Return) for node in forward.body):
            self.fail(Unresolvable("forward() returns nothing.", "Return the model's output.", forward, "S020"))
            return
        self.returned(returned, forward)

    def forward_statement(self, node: ast.stmt, scope: Dict[str, Any]) -> Any:
        if self.says_nothing(node) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                                       and self.qualified(node.value.func) == "print"):
            return None
        if isinstance(node, ast.Assign):
            value = self.evaluate(node.value, scope)
            if isinstance(value, Selection) and value.kind == STEP:
                # `last = out[:, -1, :]`: the step where forward() writes it, once for all its uses.
                value = self.materialise(value, node.value)
            for target in node.targets:
                self.forward_bind(target, value, scope)
            return None
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            self.forward_bind(node.target, self.evaluate(node.value, scope), scope)
            return None
        if isinstance(node, ast.Return):
            return self.evaluate(node.value, scope) if node.value is not None else None
        if isinstance(node, ast.Expr):
            self.evaluate(node.value, scope)
            return None
        if isinstance(node, (ast.With, ast.AsyncWith)):
            return self.statements(node.body, scope, self.forward_statement)
        kind = {ast.If: "branches", ast.For: "has a for loop", ast.While: "has a while loop",
                ast.Try: "has a try block", ast.AugAssign: "updates a tensor in place"}.get(
            type(node), "has a statement lstmcalc does not read")
        detail = f" (`if {self.source(node.test)}:`)" if isinstance(node, ast.If) else ""
        raise Unresolvable(f"forward() {kind}{detail} on line {node.lineno}: lstmcalc reads forward() as a straight "
                           "data flow and does not run the code, so it cannot tell which operations run.",
                           "Keep one straight path in a copy of the model (e.g. the one that runs in eval mode), "
                           "or describe it in a spec file.", node)

    def forward_bind(self, target: ast.AST, value: Any, scope: Dict[str, Any]) -> None:
        if isinstance(target, ast.Name):
            scope[target.id] = value
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, (tuple, list)) or len(value) != len(target.elts):
                count = len(value) if isinstance(value, (tuple, list)) else 1
                raise Unresolvable(f"`{self.source(target)}` unpacks {len(target.elts)} values from what gives "
                                   f"{count}.", "Unpack what the module returns: out, (h_n, c_n) = self.lstm(x) for an "
                                                "LSTM, out, h_n = self.gru(x) for a GRU or RNN.", target, "S020")
            for element, item in zip(target.elts, value):
                self.forward_bind(element, item, scope)
            return
        raise Unresolvable(f"forward() assigns to `{self.source(target)}`, which lstmcalc does not read.",
                           "Assign results to plain names.", target, "S020")

    def forward_call(self, node: ast.Call, scope: Dict[str, Any]) -> Any:
        func = node.func
        if isinstance(func, ast.Attribute) and self.is_self(func.value):
            target = self.attribute_value(func, scope)
            if isinstance(target, Method):
                raise Unresolvable(f"forward() calls the method `self.{target.name}(...)`, which lstmcalc does not "
                                   "follow.", "Write its operations in forward() itself.", node, "S020")
            if isinstance(target, (Module, Container)):
                return self.call_module(target, node, scope)
            raise Unresolvable(f"`self.{func.attr}` is not a module.", "Call modules assigned in __init__.", node,
                               "S020")
        name = self.qualified(func)
        torch_function = self.torch_member(func, TORCH) or self.torch_member(func, FUNCTIONAL)
        if torch_function is not None:
            if torch_function in CONCATENATIONS:
                return self.concatenation(node, scope)
            if torch_function in self.join_types and self.torch_member(func, TORCH) and torch_function.isalpha() \
                    and torch_function != "average":
                return self.extremum(torch_function, node, scope)
            if torch_function in ZEROS and self.torch_member(func, TORCH):
                sizes = [self.evaluate(argument, scope) for argument in node.args]
                if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
                    sizes = list(sizes[0])
                if all(isinstance(size, (int, Dimension)) and not isinstance(size, bool) for size in sizes):
                    return Zeros(tuple(sizes), node)
                raise self.cannot_resolve(node)
            if torch_function in self.functions:
                tensor = self.tensor_argument(node.args[0] if node.args else None, node, scope)
                return self.functional(torch_function, tensor, node.args[1:], node, scope)
            raise Unresolvable(f"`{name}` is not an operation lstmcalc models in forward().",
                               self.known_operations(), node, "S020")
        if isinstance(func, ast.Attribute):
            owner = self.evaluate(func.value, scope) if not self.is_device(func.value) else None
            if isinstance(owner, (Tensor, Selection)):
                return self.tensor_method(owner, func.attr, node, scope)
            if isinstance(owner, Zeros) and func.attr in SAME_ZEROS:
                return owner  # h0.to(x.device): the same zeros
        raise Unresolvable(f"forward() calls `{self.source(func)}`, which lstmcalc does not model.",
                           self.known_operations(), node, "S020")

    @staticmethod
    def is_device(node: ast.AST) -> bool:
        """``x.device`` (an argument of ``.to``), which is no tensor lstmcalc follows."""
        return isinstance(node, ast.Attribute) and node.attr == "device"

    def known_operations(self) -> str:
        functions = ", ".join(sorted(self.functions))
        return (f"lstmcalc reads module calls, indexing of the last step, torch.cat of h_n[-2] and h_n[-1], "
                f"view/reshape(x.size(0), -1) and these functions and tensor methods: {functions}.")

    def tensor_method(self, owner: Any, method: str, node: ast.Call, scope: Dict[str, Any]) -> Any:
        if method in SIZES:
            tensor = self.materialise(owner, node) if isinstance(owner, Selection) else owner
            if len(node.args) == 1 and not node.keywords:
                axis = self.evaluate(node.args[0], scope)
                if isinstance(axis, int):
                    return Dimension(tensor, axis)
            raise self.cannot_resolve(node)
        tensor = self.consumed(owner, node)
        if method in SAME_TENSOR and not node.args:
            return tensor
        if method in RESHAPES:
            return self.reshape(tensor, method, node, scope)
        if method in self.functions:
            return self.functional(method, tensor, node.args, node, scope)
        raise Unresolvable(f"`.{method}(...)` is not an operation lstmcalc models in forward().",
                           self.known_operations(), node, "S020")

    def tensor_argument(self, argument: Optional[ast.AST], node: ast.AST, scope: Dict[str, Any]) -> Tensor:
        if argument is None:
            raise Unresolvable(f"`{self.source(node)}` has no tensor to act on.", "Pass the tensor.", node, "S020")
        return self.consumed(self.evaluate(argument, scope), argument)

    # -- operations ----------------------------------------------------------------------------

    def consumed(self, value: Any, node: ast.AST) -> Tensor:
        """The tensor an operation takes: it must be what the previous operation made (a chain)."""
        if isinstance(value, Selection):
            value = self.materialise(value, node)
        if isinstance(value, tuple) and value and isinstance(value[0], Tensor) and value[0].node == self.head:
            raise Unresolvable(f"`{self.source(node)}` is the whole result of {self.head} (output and states); "
                               "pick the output.", "Unpack it first: out, _ = ..., then use out.", node, "S020")
        if not isinstance(value, Tensor):
            raise Unresolvable(f"`{self.source(node)}` is not a tensor of the model.",
                               "Pass the input or the result of an operation.", node, "S020")
        if value.node != self.head or value.index not in (None, 0):
            # Not the result of the operation just before: forward() is a graph, each operation reading
            # the tensors it names.
            self.graph = True
        return value

    def describe(self, tensor: Tensor) -> str:
        if tensor.node == self.input_name:
            return f"the input `{tensor.node}`"
        layer = self.built.get(tensor.node)
        labels = layer.output_labels(3) if layer is not None else []
        if tensor.index is not None and tensor.index < len(labels):
            return f"{labels[tensor.index]} of {tensor.node}"
        return f"the result of {tensor.node}"

    def add(self, definition: LayerDef, inputs: Sequence[Tensor], name: Optional[str] = None,
            states: Sequence[Tensor] = (), as_list: bool = False) -> str:
        """Append an operation (reading ``inputs``, and ``states`` as its initial state) to the data
        flow; returns its node's name."""
        self.layers.append(definition)
        if self.first_consumer is None:
            self.first_consumer = definition
        name = name or self.node_name(definition)
        self.wiring[name] = (list(inputs), list(states), as_list)
        layer = self.build(definition)
        if layer is not None:
            self.built[name] = layer
        self.head = name
        return name

    @staticmethod
    def node_name(definition: LayerDef) -> str:
        own = definition.explicit_name or str(definition.index)
        return f"{definition.scope}.{own}" if definition.scope else own

    def build(self, definition: LayerDef):
        """The module's Layer, to ask it its own facts (what it returns, its last step)."""
        from ..layers.factory import LayerFactory

        if definition.shares:
            return self.built.get(definition.shares)
        layer, problems = LayerFactory(framework=PYTORCH).create(definition)
        if layer is None:
            # torch would not construct it (an unknown class, a wrong argument): that is the problem to
            # report, not what forward() then does with it.
            self.diagnostics.extend(problems)
            raise AlreadyReported()
        return layer

    def step_name(self, node: ast.AST, kind: str) -> str:
        """The variable forward() assigns the operation to (assigned once), else its kind, counted."""
        wanted = self.names_for.get(id(node))
        if wanted is not None and wanted not in self.taken:
            self.taken[wanted] = 1
            return wanted
        count = self.taken.get(kind, 0)
        name = kind if count == 0 else f"{kind}_{count}"
        while name in self.taken:
            count += 1
            name = f"{kind}_{count}"
        self.taken[kind] = count + 1
        self.taken[name] = 1
        return name

    def operation(self, type_name: str, kind: str, node: ast.AST, arguments: Dict[str, Any],
                  inputs: Sequence[Tensor], as_list: bool = False) -> Tensor:
        """A forward() operation that is no module (an activation function, a spec step)."""
        where = self.at(node)
        definition = LayerDef(type_name, where, where, source=self.source(node, 200))
        for key, value in arguments.items():
            definition.keywords[key] = Argument(value, where)
        definition.keywords["name"] = Argument(self.step_name(node, kind), where)
        return Tensor(self.add(definition, inputs, as_list=as_list))

    def functional(self, name: str, tensor: Tensor, positional: Sequence[ast.AST], node: ast.AST,
                   scope: Dict[str, Any], given_values: Optional[Dict[str, Any]] = None) -> Tensor:
        """``torch.relu(x)``, ``F.softmax(x, dim=1)``, ``x.permute(0, 2, 1)``: the module or step
        computing it, its arguments after the tensor mapped to the module's in order."""
        cls = self.functions[name]
        own = [argument.name for argument in cls.arguments]
        values: Dict[str, Any] = dict(cls.functional_defaults)
        given = [self.evaluate(argument, scope) for argument in positional]
        if cls.functional_varargs:
            if len(given) == 1 and isinstance(given[0], (tuple, list)):
                given = list(given[0])
            values[cls.functional_varargs] = list(given) if given else values.get(cls.functional_varargs)
            given = []
        if len(given) > len(own):
            raise Unresolvable(f"`{self.source(node)}` passes more arguments than {cls.keras_class} takes "
                               f"({', '.join(own)}).", "Pass them by name.", node, "S020")
        values.update(zip(own, given))
        values.update(self.keyword_values(node, scope) if isinstance(node, ast.Call) else {})
        values.update(given_values or {})
        values = {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()
                  if value is not None}
        return self.operation(cls.keras_class, name, node, values, [tensor])

    def reshape(self, tensor: Tensor, method: str, node: ast.Call, scope: Dict[str, Any]) -> Tensor:
        """``x.view(x.size(0), -1)`` (or reshape, or ``x.shape[0]``): nn.Flatten's function."""
        sizes = [self.evaluate(argument, scope) for argument in node.args]
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = list(sizes[0])
        if len(sizes) == 2 and isinstance(sizes[0], Dimension) and sizes[0].axis == 0 and sizes[1] == -1 \
                and sizes[0].tensor.node == tensor.node and not node.keywords:
            return self.operation(self.functions["flatten"].keras_class, "flatten", node, {}, [tensor])
        raise Unresolvable(f"`{self.source(node)}`: lstmcalc models {method}() that keeps the first axis and joins "
                           f"the others, `x.{method}(x.size(0), -1)` (nn.Flatten); these sizes need the code to run.",
                           "Write x.view(x.size(0), -1) or torch.flatten(x, 1), or describe the model in a spec file.",
                           node, "S020")

    def subscript(self, node: ast.Subscript, scope: Dict[str, Any]) -> Any:
        value = self.evaluate(node.value, scope)
        if isinstance(value, (tuple, list)):
            index = self.evaluate(node.slice, scope)
            if isinstance(index, int) and -len(value) <= index < len(value):
                return value[index]
            raise self.cannot_resolve(node)
        if isinstance(value, Shape):
            index = self.evaluate(node.slice, scope)
            if isinstance(index, int):
                return Dimension(value.tensor, index)
            raise self.cannot_resolve(node)
        if isinstance(value, Selection):
            value = self.materialise(value, node)
        if not isinstance(value, Tensor):
            raise self.cannot_resolve(node)
        pattern = self.index_pattern(node.slice)
        state = value.index not in (None, 0)
        # Trailing full slices change nothing: out[:, -1, :, :] (a 4-D tensor's last step) is out[:, -1].
        while len(pattern) > 1 and pattern[-1] == "all":
            pattern = pattern[:-1]
        if pattern == ("last",):
            return Selection(value, LAST_STATE if state else STEP, node, axis=0)
        if pattern == ("all", "last") and not state:
            return Selection(value, STEP, node, axis=1)
        if pattern == ("second",) and state:
            return Selection(value, ROW, node)
        raise Unresolvable(f"`{self.source(node)}` selects part of a tensor; lstmcalc models the last step "
                           "(out[:, -1, :], out[-1], h_n[-1], torch.cat((h_n[-2], h_n[-1]), dim=1)).",
                           "Take the last step, or describe the model in a spec file.", node, "S020")

    @staticmethod
    def index_pattern(node: ast.AST) -> Tuple[str, ...]:
        items = node.elts if isinstance(node, ast.Tuple) else [node]
        pattern = []
        for item in items:
            if isinstance(item, ast.Slice) and item.lower is None and item.upper is None and item.step is None:
                pattern.append("all")
            elif isinstance(item, ast.UnaryOp) and isinstance(item.op, ast.USub) and \
                    isinstance(item.operand, ast.Constant) and item.operand.value in (1, 2):
                pattern.append("last" if item.operand.value == 1 else "second")
            else:
                pattern.append("other")
        return tuple(pattern)

    def concatenation(self, node: ast.Call, scope: Dict[str, Any]) -> Any:
        """``torch.cat((h_n[-2], h_n[-1]), dim=1)``: both directions' last states (LastStep)."""
        parts = self.evaluate(node.args[0], scope) if node.args else None
        dim = self.evaluate(node.args[1], scope) if len(node.args) > 1 else \
            self.keyword_values(node, scope).get("dim", 0)
        if isinstance(parts, (tuple, list)) and len(parts) == 2 and all(isinstance(part, Selection) for part in parts) \
                and parts[0].kind == ROW and parts[1].kind == LAST_STATE and parts[0].tensor == parts[1].tensor \
                and dim in (1, -1):
            return Selection(parts[0].tensor, LAST_TWO_STATES, node)
        if isinstance(parts, (tuple, list)) and parts and all(isinstance(part, (Tensor, Selection)) for part in parts) \
                and isinstance(dim, int) and not isinstance(dim, bool):
            return self.join("cat", parts, node, {"dim": dim})
        raise Unresolvable(f"`{self.source(node)}` joins what lstmcalc cannot follow; it models torch.cat of a tuple "
                           "of tensors along a whole-number dim, torch.cat((a, b), dim=-1).",
                           "Join tensors of the model, or describe the model in a spec file.", node, "S020")

    def join(self, kind: str, values: Sequence[Any], node: ast.AST, arguments: Dict[str, Any]) -> Tensor:
        """A step joining tensors (``torch.cat``, ``a + b``, ``torch.maximum``): forward() is a graph."""
        tensors = [self.consumed(value, node) for value in values]
        self.graph = True
        type_name = self.join_types[kind]
        return self.operation(type_name, type_name.lower(), node, arguments, tensors, as_list=True)

    def evaluate(self, node: ast.AST, scope: Dict[str, Any]) -> Any:
        if self.phase == "forward" and isinstance(node, ast.BinOp):
            joined = self.arithmetic(node, scope)
            if joined is not None:
                return joined
        return super().evaluate(node, scope)

    def arithmetic(self, node: ast.BinOp, scope: Dict[str, Any]) -> Optional[Tensor]:
        """``a + b + c``, ``a - b``, ``a * b``, ``(a + b) / 2`` of tensors: the join computing it;
        None when no tensor takes part (arithmetic on sizes)."""
        average = isinstance(node.op, ast.Div) and isinstance(node.left, ast.BinOp) and isinstance(node.left.op, ast.Add)
        top = node.left if average else node
        symbol = TENSOR_OPERATORS.get(type(top.op))
        if symbol is None:
            return None
        operands: List[ast.AST] = [top.right]
        left = top.left
        while symbol != "-" and isinstance(left, ast.BinOp) and type(left.op) is type(top.op):
            operands.insert(0, left.right)
            left = left.left
        operands.insert(0, left)
        values = [self.evaluate(operand, scope) for operand in operands]
        if not any(isinstance(value, (Tensor, Selection)) for value in values):
            return None
        for operand, value in zip(operands, values):
            if not isinstance(value, (Tensor, Selection)):
                raise Unresolvable(f"`{self.source(node)}` combines a tensor with `{self.source(operand)}`; lstmcalc "
                                   "models operators between tensors of the model: a + b, a - b, a * b, (a + b) / 2.",
                                   "Describe the model in a spec file.", node, "S020")
        if not average:
            return self.join(symbol, values, node, {})
        divisor = self.evaluate(node.right, scope)
        if divisor != len(values) or isinstance(divisor, bool):
            raise Unresolvable(f"`{self.source(node)}` divides a sum of {len(values)} tensors by "
                               f"`{self.source(node.right)}`; lstmcalc models their average, "
                               f"(a + b) / 2 for two tensors.", "Describe the model in a spec file.", node, "S020")
        return self.join("average", values, node, {})

    def extremum(self, function: str, node: ast.Call, scope: Dict[str, Any]) -> Tensor:
        """``torch.maximum(a, b)``, nested for more: ``torch.maximum(torch.maximum(a, b), c)``."""
        def pair(call: ast.AST) -> bool:
            return isinstance(call, ast.Call) and len(call.args) == 2 and not call.keywords and \
                self.torch_member(call.func, TORCH) == function
        if not pair(node):
            raise Unresolvable(f"`{self.source(node)}`: lstmcalc models torch.{function}(a, b) of two tensors.",
                               "Pass the two tensors.", node, "S020")
        operands: List[ast.AST] = []
        current: ast.AST = node
        while pair(current):
            operands.insert(0, current.args[1])
            current = current.args[0]
        operands.insert(0, current)
        return self.join(function, [self.evaluate(operand, scope) for operand in operands], node, {})

    def materialise(self, selection: Selection, node: ast.AST) -> Tensor:
        """The selection as the LastStep it is, if the module it reads says so."""
        if selection.kind == ROW:
            raise Unresolvable(f"`{self.source(selection.node)}` is one row of the states; lstmcalc models it only "
                               "joined with the last row: torch.cat((h_n[-2], h_n[-1]), dim=1).",
                               "Join the two directions' last states, or take h_n[-1].", selection.node, "S020")
        if selection in self.materialised:
            return self.materialised[selection]
        self.materialised[selection] = result = self.materialised_step(selection)
        return result

    def materialised_step(self, selection: Selection) -> Tensor:
        tensor = selection.tensor
        if tensor.node != self.head:
            self.consumed(tensor, selection.node)  # not the latest operation: a graph
        layer = self.built.get(tensor.node)
        if layer is not None:
            refusal = layer.last_step_refusal(tensor.index or 0, selection.kind)
            if refusal is not None and selection.kind == STEP:
                # The index taken literally (after a bidirectional module it is not the last step).
                return self.functional("select", tensor, [], selection.node, {}, {"dim": selection.axis, "index": -1})
            if refusal is not None:
                raise Unresolvable(f"`{self.source(selection.node)}`: {refusal}",
                                   "Write the last step lstmcalc models for this module, or describe the model in a "
                                   "spec file.", selection.node, "S020")
        result = self.operation(self.last_step, "last_step", selection.node, {}, [Tensor(tensor.node)])
        if selection.kind == STEP:
            self.checks.append((self.layers[-1], selection.node, self.time_axis_check(selection.axis)))
        return result

    def time_axis_check(self, axis: Optional[int]) -> Callable[[Any], Optional[Tuple[str, str]]]:
        def check(item) -> Optional[Tuple[str, str]]:
            from ..compute import input_tensors

            report, record = item
            layer, tensors = report.graph.nodes[record.name].layer, input_tensors(report, record)
            used = layer.time_axis(tensors[0])
            if used == axis:
                return None
            written = "out[:, -1, :]" if axis == 1 else "out[-1]"
            meant = "the last sample of the batch" if tensors[0].batch_axis == axis else "another axis than time"
            return (f"`{written}` indexes axis {axis}, but the tensor has its time axis at {used} (its batch axis is "
                    f"{tensors[0].batch_axis}): it picks {meant}, not the last step.",
                    "Index the time axis: out[:, -1, :] with batch_first=True, out[-1] with batch_first=False.")
        return check

    def call_module(self, target: Union[Module, Container], node: ast.Call, scope: Dict[str, Any]) -> Any:
        zeros: List[Zeros] = []
        given: List[Tensor] = []
        if len(node.args) != 1 or node.keywords:
            states = node.args[1:] + [keyword.value for keyword in node.keywords]
            if not states or not node.args:
                raise Unresolvable(f"`{self.source(node)}` calls a module without a tensor.", "Pass the tensor.",
                                   node, "S020")
            zeros, given = self.initial_states(states, node, scope)
        tensor = self.consumed(self.evaluate(node.args[0], scope), node.args[0])
        if isinstance(target, Container):
            if given:
                raise Unresolvable(f"`{self.source(node)}` passes states to nn.Sequential, which takes one tensor.",
                                   "Pass the states to the recurrent module itself.", node, "S020")
            target.calls += 1
            result: Any = tensor
            leaves = target.leaves()
            for position, module in enumerate(leaves):
                result = self.call_leaf(module, node, [result])
                if isinstance(result, tuple) and position < len(leaves) - 1:
                    raise Unresolvable(
                        f"nn.Sequential `{target.path}` passes what {module.path} ({module.definition.type_name}) "
                        f"returns — a tuple ({self.source(module.node)} returns its output with its states) — to "
                        f"{leaves[position + 1].path}, which torch refuses (it takes a tensor).",
                        "Call the recurrent module on its own in forward() and unpack its output.", node, "S020")
            return result
        result = self.call_leaf(target, node, [tensor], given)
        if zeros:
            self.checks.append((target.definition, node, self.state_check(zeros)))
        return result

    def initial_states(self, states: Sequence[ast.AST], node: ast.Call,
                       scope: Dict[str, Any]) -> Tuple[List[Zeros], List[Tensor]]:
        """Initial states that are zeros (``None``, ``torch.zeros(...)``, a tuple of them): torch's own
        default, so the module runs as without them (their shapes are checked later); or tensors
        forward() computed, (h_0, c_0) in order: the module's ``initial_state`` in a graph."""
        values = [self.evaluate(state, scope) for state in states]
        flat: List[Any] = []
        for value in values:
            flat += list(value) if isinstance(value, tuple) else [value]
        if all(value is None or isinstance(value, Zeros) for value in flat):
            return [value for value in flat if isinstance(value, Zeros)], []
        if all(isinstance(value, (Tensor, Selection)) for value in flat):
            self.graph = True
            return [], [self.consumed(value, node) for value in flat]
        raise Unresolvable(f"`{self.source(node)}` passes initial states that are neither zeros nor tensors forward() "
                           "computes; lstmcalc reads zeros (None, torch.zeros(...)) — torch's default — or results of "
                           "the model's operations, and no other values from code.",
                           "Leave the states out, compute them in forward(), or describe them in a spec file (an "
                           "input with batch_axis: 1 as initial_state).", node, "S020")

    def state_check(self, zeros: List[Zeros]) -> Callable[[Any], Optional[Tuple[str, str]]]:
        """The zeros' shapes are the states torch expects (h_0, then c_0)."""
        def check(item) -> Optional[Tuple[str, str]]:
            report, record = item
            expected = [tuple(shape) for shape in record.output_shapes[1:]]
            for position, state in enumerate(zeros):
                sizes = tuple(self.size_of(report, size) for size in state.sizes)
                if position >= len(expected) or sizes != expected[position]:
                    wanted = expected[position] if position < len(expected) else "no such state"
                    return (f"`{self.source(state.node)}` is {list(sizes)}, but {record.name} ({record.type}) expects "
                            f"its state {position} to be {list(wanted) if isinstance(wanted, tuple) else wanted}: "
                            "torch raises RuntimeError when the model runs.",
                            "Give the states the shape torch expects (num_layers × directions, batch, hidden), or "
                            "leave them out: torch starts from zeros.")
            return None
        return check

    def size_of(self, report, size: Any) -> Any:
        if not isinstance(size, Dimension):
            return size
        name = size.tensor.node
        record = report.layer(name)
        if record is not None and record.output_shapes:
            shape = record.output_shapes[size.tensor.index or 0]
        else:
            shape = next((item.shape for item in report.inputs if item.name == name), ())
        return shape[size.axis] if -len(shape) <= size.axis < len(shape) else None

    def call_leaf(self, module: Module, node: ast.Call, inputs: Sequence[Tensor], states: Sequence[Tensor] = ()) -> Any:
        """One call of a module: its result as forward() receives it (nested as the module returns it)."""
        module.calls += 1
        if module.calls == 1:
            head = self.add(module.definition, inputs, states=states)
        else:
            # A module called again: the same parameters, its node `name[k]` as a spec's `call:` names it.
            again = LayerDef("", self.at(node), module.definition.type_location, shares=module.path,
                             source=self.source(node, 200))
            head = self.add(again, inputs, f"{module.path}[{module.calls - 1}]", states)
        layer = self.built.get(module.path)
        structure = layer.call_result() if layer is not None else 0

        def tensors(item: Any) -> Any:
            if isinstance(item, tuple):
                return tuple(tensors(inner) for inner in item)
            return Tensor(head, item if structure != 0 else None)

        return tensors(structure)

    def returned(self, value: Any, forward: ast.FunctionDef) -> None:
        node = next(item for item in reversed(forward.body) if isinstance(item, ast.Return))
        if isinstance(value, Selection):
            try:
                value = self.materialise(value, node)
            except Unresolvable as problem:
                self.fail(problem)
                return
        items = self.flat(value) if isinstance(value, tuple) and value else [value]
        layer = self.built.get(self.head)
        whole = [Tensor(self.head, index) for index in range(len(self.flat(layer.call_result())))] \
            if layer is not None and isinstance(layer.call_result(), tuple) else None
        if items == whole and not self.graph:
            items = [Tensor(self.head)]  # the module's whole result: the chain's last node
        if not all(isinstance(item, (Tensor, Selection)) for item in items):
            what = f"`{self.source(node.value)}`" if node.value is not None else "nothing"
            self.fail(Unresolvable(f"forward() returns {what}, not a tensor of the model (or a tuple of them).",
                                   "Return the model's output.", node, "S020"))
            return
        try:
            self.outputs = [self.materialise(item, node) if isinstance(item, Selection) else item for item in items]
        except Unresolvable as problem:
            self.fail(problem)
            return
        if len(self.outputs) > 1 or self.outputs[0].node != self.head or self.outputs[0].index not in (None, 0):
            self.graph = True
        if self.graph:
            self.unused_results(node)

    @staticmethod
    def flat(value: Any) -> List[Any]:
        if isinstance(value, tuple):
            return [inner for item in value for inner in TorchReader.flat(item)]
        return [value]

    def unused_results(self, node: ast.Return) -> None:
        """Every operation of a graph leads to what forward() returns."""
        read = {tensor.node for inputs, states, _ in self.wiring.values() for tensor in inputs + states}
        read |= {tensor.node for tensor in self.outputs}
        for name, definition in zip(self.wiring, self.layers):
            if name not in read:
                self.fail(Unresolvable(
                    f"forward() computes {name} ({definition.type_name or 'called again'}) and neither uses nor "
                    "returns it: "
                    "lstmcalc reads forward() as one data flow — one chain, or a graph — in which every operation "
                    "leads to what it returns.", "Remove the operations whose results are not used, or return "
                    "them.", node, "S020"))
                return

    # -- the spec ------------------------------------------------------------------------------

    def spec(self, cls: ast.ClassDef, forward: ast.FunctionDef) -> Optional[ModelSpec]:
        options = self.options
        spec = ModelSpec(file=self.file, name=cls.name, batch_size=options.batch_size, framework=PYTORCH)
        spec.layers = list(self.layers)
        for item in self.order:
            for module in (item.leaves() if isinstance(item, Container) else [item]):
                if module.calls == 0:
                    module.definition.called = False
                    spec.layers.append(module.definition)
        where = self.at(forward)
        spec.top_locations["input"] = where
        if options.input_shape is None:
            self.fail(Unresolvable(
                f"The shape of `{self.input_name}`, forward()'s input, is not in the code: a module does not say "
                "what it is called on.", "Give one sample without the batch axis: --input 35,20 (time steps, "
                "features), or --input 35 --dtype int64 for token ids; and --batch-size 8.", forward, "S022"))
            return None
        if not self.graph:
            dtype = options.dtype or self.default_dtype(self.first_consumer)
            spec.inputs = [InputDef(self.input_name, tuple(options.input_shape), dtype, where)]
            return spec
        shapes = [options.input_shape] + list(options.more_inputs)
        if len(shapes) < len(self.input_names):
            missing = self.input_names[len(shapes)]
            self.fail(Unresolvable(
                f"forward() takes several inputs ({', '.join(self.input_names)}); the shape of `{missing}` is not "
                "in the code: a module does not say what it is called on.", "Give one sample's shape of each input, in forward()'s order: "
                "--input \"30,12;5\".", forward, "S022"))
            return None
        dtypes = list(options.more_dtypes)
        for position, name in enumerate(self.input_names):
            given = options.dtype if position == 0 else (dtypes[position - 1] if position <= len(dtypes) else None)
            first = next((definition for node, definition in zip(self.wiring, self.layers)
                          if any(tensor.node == name for tensor in self.wiring[node][0])), None)
            spec.inputs.append(InputDef(name, tuple(shapes[position]), given or self.default_dtype(first), where))
        for node, definition in zip(self.wiring, self.layers):
            inputs, states, as_list = self.wiring[node]
            definition.inputs = [self.reference(tensor, definition) for tensor in inputs]
            definition.inputs_as_list = as_list
            definition.initial_state = [self.reference(tensor, definition) for tensor in states] or None
        spec.outputs = [self.reference(tensor, None) for tensor in self.outputs]
        spec.functional = True
        return spec

    def reference(self, tensor: Tensor, reader: Optional[LayerDef]) -> Reference:
        where = reader.location if reader is not None else self.at(self.class_node)
        return Reference(tensor.node, tensor.index or 0, where)

    def default_dtype(self, first: Optional[LayerDef]) -> str:
        """int64 (torch's integer) when the input goes into a module taking ids (nn.Embedding)."""
        layer = self.built.get(self.node_name(first)) if first is not None else None
        values = layer.input_values() if layer is not None else None
        return "int64" if values is not None and values.integer else "float32"

    def post_checks(self, spec: ModelSpec) -> None:
        """What needs the shapes: which axis a written last-step index reads, the zeros' shapes."""
        if not self.checks:
            return
        from ..engine import analyze_spec

        report = analyze_spec(spec)
        for definition, node, check in self.checks:
            record = report.layer(self.node_name(definition))
            if record is None or record.status != "ok":
                continue
            problem = check((report, record))
            if problem is not None:
                self.report(Unresolvable(problem[0], problem[1], node, "S020"))


def read_torch(text: str, file: str, bindings: Optional[Dict[str, Any]] = None,
               options: SourceOptions = SourceOptions()) -> Read:
    """The ModelSpec of the nn.Module that PyTorch source defines (read, never run)."""
    tree, problem = parse_source(text, file)
    if tree is None:
        return None, [problem]
    reader = TorchReader(text, file, bindings, options)
    try:
        return reader.read(tree)
    except RecursionError:
        return None, [too_deep(file)]


def imports_torch(tree: ast.Module) -> bool:
    """Whether a module imports torch (import torch, from torch import nn, ...)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(alias.name.split(".")[0] == TORCH for alias in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == TORCH:
            return True
    return False

