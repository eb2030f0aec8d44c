"""Keras Python source as a ModelSpec, read with ``ast`` — never imported, never run.

Understood: ``Sequential([...])`` lists and ``model.add(...)`` chains; functional graphs
(``x = LSTM(...)(x)``, ``Model(inputs, outputs)``, ``initial_state=[h, c]``, merges such as
``Concatenate()([a, b])`` or ``concatenate([a, b])``, tuple unpacking of ``return_state``
outputs); ``keras.layers.X``, ``layers.X``, ``tf.keras.layers.X`` and ``from keras.layers import
X`` spellings; ``Input(shape=...)`` and ``input_shape=``; module-level constants with simple
arithmetic; functions that build the model, called with constant arguments. A layer is
recognised by being used as one (in a Sequential, ``add``-ed or called on a tensor); whether its
type exists is the layer registry's business.

Whatever needs the code to run — a value read from data, a loop that adds layers, a branch — is
a diagnostic (S018) at its line, saying what could not be resolved and how to write it instead.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ..diagnostics import Diagnostic
from ..layers.registry import FAMILIES, layer_class
from ..layers.factory import Namer
from ..spec.model import Argument, InputDef, LayerDef, ModelSpec, Reference
from ..spec.reader import SpecReader
from ..layers.base import INPUT_TYPE
from .python_values import (AlreadyReported, Evaluator, Unresolvable, Unresolved, callee_name, dotted, is_main_guard,
                            parse_source, too_deep)

# Keras's model-building API (not layer types): keras.Input, keras.layers.InputLayer,
# keras.Sequential, keras.Model (Functional is what Model builds).
INPUT_CALLS = ("Input", INPUT_TYPE)
SEQUENTIAL_CALLS = ("Sequential",)
MODEL_CALLS = ("Model", "Functional")
# Module paths whose calls make serialisable objects, kept as values (initializers and friends).
VALUE_MODULES = ("initializers", "regularizers", "constraints")
MAX_CALL_DEPTH = 8  # functions that build a model, calling each other


@dataclass
class Tensor:
    """A symbolic tensor: output ``reference.index`` of a layer call or input (None: all of them)."""

    reference: Reference


@dataclass
class LayerObject:
    """A constructed layer; ``calls`` counts the times it was applied to tensors."""

    definition: LayerDef
    calls: int = 0


@dataclass
class SequentialModel:
    name: Optional[str]
    node: ast.AST
    input: Optional[InputDef] = None
    layers: List[LayerDef] = field(default_factory=list)
    problem: Optional[Unresolvable] = None


@dataclass
class FunctionalModel:
    name: Optional[str]
    node: ast.AST
    inputs: List[Tensor]
    outputs: List[Tensor]


@dataclass
class Function:
    node: ast.FunctionDef


class PythonReader(Evaluator):
    """Walks the module's statements in order, binding names to values it can resolve."""

    def __init__(self, text: str, file: str, bindings: Optional[Dict[str, Any]] = None):
        self.spec_reader = SpecReader(file)
        super().__init__(text, file, bindings, self.spec_reader.diagnostics)
        self.aliases: Dict[str, str] = {}  # `from keras.layers import LSTM as L` → L: LSTM
        self.inputs: Dict[str, InputDef] = {}
        self.calls: List[LayerDef] = []  # layer applications, in call order
        self.models: List[Tuple[str, Any]] = []  # (variable, model) in assignment order
        self.used_models: set = set()  # ids of models used inside other models
        self.namer = Namer()  # Keras's default names, given at construction as Keras does
        self.nested_layers: Dict[int, LayerObject] = {}  # models used as layers, by id
        self.depth = 0

    # -- statements ------------------------------------------------------------------------------

    def run(self, body: Sequence[ast.stmt], scope: Dict[str, Any]) -> Any:
        """Execute statements symbolically; returns what a ``return`` gives (functions)."""
        for statement in body:
            try:
                result = self.statement(statement, scope)
            except Unresolvable as problem:
                self.report(problem)
                continue
            except AlreadyReported:
                continue
            if isinstance(statement, ast.Return):
                return result
        return None

    def statement(self, node: ast.stmt, scope: Dict[str, Any]) -> Any:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
            return None
        if isinstance(node, (ast.Import, ast.Pass, ast.ClassDef, ast.AsyncFunctionDef)):
            return None
        if isinstance(node, ast.FunctionDef):
            scope[node.name] = Function(node)
            return None
        if isinstance(node, ast.Assign):
            try:
                value = self.evaluate(node.value, scope)
            except Unresolvable as problem:
                # Data loading and such is only an error if the model uses it; a failing layer or
                # model expression is one now.
                reported = self.mentions_keras(node.value, scope)
                if reported:
                    self.report(problem)
                for target in node.targets:
                    self.bind_unresolved(target, node.value, scope, reported)
                return None
            except AlreadyReported:
                for target in node.targets:
                    self.bind_unresolved(target, node.value, scope, True)
                return None
            for target in node.targets:
                self.bind(target, value, scope, node)
            return None
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            return self.statement(ast.Assign(targets=[node.target], value=node.value, lineno=node.lineno,
                                             col_offset=node.col_offset), scope)
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            operation = ast.BinOp(left=ast.Name(id=node.target.id, ctx=ast.Load()), op=node.op, right=node.value,
                                  lineno=node.lineno, col_offset=node.col_offset)
            return self.statement(ast.Assign(targets=[node.target], value=operation, lineno=node.lineno,
                                             col_offset=node.col_offset), scope)
        if isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Call):
                self.effect(node.value, scope)
                return None
            return self.evaluate(node.value, scope) if isinstance(node.value, (ast.Name,)) else None
        if isinstance(node, ast.Return):
            return self.evaluate(node.value, scope) if node.value is not None else None
        if isinstance(node, ast.If) and is_main_guard(node.test):
            return self.run(node.body, scope)
        if isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.AsyncFor, ast.AsyncWith)):
            self.control_flow(node, scope)
            return None
        return None

    def control_flow(self, node: ast.stmt, scope: Dict[str, Any]) -> None:
        """A loop or branch: what it binds is unknown; adding layers inside it is an error."""
        kind = {ast.If: "an `if`", ast.For: "a `for` loop", ast.While: "a `while` loop", ast.With: "a `with` block",
                ast.Try: "a `try` block"}.get(type(node), "a block")
        if isinstance(node, (ast.With, ast.Try)):
            self.run(node.body, scope)  # runs once, in order
            return
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "add":
                target = scope.get(inner.func.value.id) if isinstance(inner.func.value, ast.Name) else None
                if isinstance(target, SequentialModel) and target.problem is None:
                    target.problem = Unresolvable(
                        f"Layers are added to `{inner.func.value.id}` inside {kind} (line {node.lineno}); "
                        "lstmcalc does not run code, so it cannot tell how many.",
                        "Write the layers out one `add` per layer (or list them in Sequential([...])).", inner)
            if isinstance(inner, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = inner.targets if isinstance(inner, ast.Assign) else [inner.target]
                problem = Unresolvable("", "", inner)
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name) and not (scope is self.names and name.id in self.bindings):
                            problem = Unresolvable(
                                f"`{name.id}` is assigned inside {kind} (line {node.lineno}); lstmcalc does not "
                                "run code, so it cannot tell its value.",
                                f"Assign `{name.id}` once at module level (e.g. `{name.id} = 64`), outside the "
                                f"loop or branch, or give its value: --set {name.id}=64.", name)
                            scope[name.id] = Unresolved(problem.message, problem.hint, name)

    def bind(self, target: ast.AST, value: Any, scope: Dict[str, Any], statement: ast.AST) -> None:
        if isinstance(target, ast.Name):
            if scope is self.names and target.id in self.bindings:
                return  # given with --set
            scope[target.id] = value
            if isinstance(value, (SequentialModel, FunctionalModel)):
                self.models.append((target.id, value))
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            items = self.unpack(value, len(target.elts), target)
            for element, item in zip(target.elts, items):
                self.bind(element, item, scope, statement)
            return
        if isinstance(target, ast.Starred):
            raise Unresolvable("Starred assignment cannot be resolved without running the code.",
                               "Unpack each value into its own name.", target)
        # Attributes and subscripts (self.x = ..., d["k"] = ...) hold nothing the model needs.

    def mentions_keras(self, node: ast.AST, scope: Dict[str, Any]) -> bool:
        """Whether an expression builds layers, tensors or models (so its failure matters now)."""
        keras_calls = INPUT_CALLS + SEQUENTIAL_CALLS + MODEL_CALLS
        # `model.predict(x)`, `model.fit(...)`: using the model, not building it.
        methods_of = {id(inner.func.value) for inner in ast.walk(node)
                      if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute)}
        for inner in ast.walk(node):
            if id(inner) in methods_of:
                continue
            if isinstance(inner, ast.Call):
                name = callee_name(inner.func)
                name = self.aliases.get(name, name) if name else name
                # A layer applied to something, a known layer type, or Keras's model API; other
                # capitalised calls (MinMaxScaler(), DataLoader(...)) are not the model.
                if isinstance(inner.func, ast.Call) or (name and (name in FAMILIES or name in keras_calls
                                                                  or self.merge_helper(name))):
                    return True
            if isinstance(inner, ast.Name):
                value = scope.get(inner.id, self.names.get(inner.id))
                if isinstance(value, (Tensor, SequentialModel, FunctionalModel)) or \
                        isinstance(value, LayerObject) and value.definition.type_name in FAMILIES:
                    return True
        return False

    def unpack(self, value: Any, count: int, target: ast.AST) -> List[Any]:
        if isinstance(value, Tensor) and value.reference.index is None:
            # `out, h, c = LSTM(..., return_state=True)(x)`: output i of that layer call.
            reference = value.reference
            return [Tensor(Reference(reference.name, index, reference.location)) for index in range(count)]
        if isinstance(value, (list, tuple)) and len(value) == count:
            return list(value)
        raise Unresolvable(f"Cannot unpack {count} values from `{self.source(target)}` without running the code.",
                           "Unpack the outputs of one layer call, e.g. `out, h, c = LSTM(8, return_state=True)(x)`.",
                           target)

    def effect(self, node: ast.Call, scope: Dict[str, Any]) -> None:
        """A call made for its effect: ``model.add(layer)``, ``model.build(shape)``; others are
        left alone (``model.compile``, ``model.summary``, ``print``)."""
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            target = scope.get(func.value.id, self.names.get(func.value.id))
            if isinstance(target, SequentialModel):
                if func.attr == "add" and node.args:
                    self.add_to_sequential(target, self.evaluate(node.args[0], scope), node.args[0])
                elif func.attr == "build" and node.args and target.input is None:
                    shape = self.evaluate(node.args[0], scope)
                    target.input = self.input_from_batch_shape(shape, node.args[0])
                return
            if isinstance(target, Unresolved) and func.attr == "add":
                if target.reported:
                    raise AlreadyReported()
                raise Unresolvable(target.message, target.hint, node)
        if callee_name(func) in INPUT_CALLS + SEQUENTIAL_CALLS + MODEL_CALLS or self.layer_call_chain(node):
            self.evaluate(node, scope)

    @staticmethod
    def layer_call_chain(node: ast.Call) -> bool:
        return isinstance(node.func, ast.Call)

    # -- expressions -----------------------------------------------------------------------------

    def evaluate_other(self, node: ast.AST, scope: Dict[str, Any]) -> Any:
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        if isinstance(node, ast.Subscript):
            return self.subscript(node, scope)
        if isinstance(node, ast.Attribute) and node.attr[:1].isupper() and not self.is_value_module(node):
            return self.construct(node, node.attr, [], [], scope)  # a layer class used bare: `Flatten`
        raise self.cannot_resolve(node)

    @staticmethod
    def is_value_module(func: ast.AST) -> bool:
        return any(part in VALUE_MODULES for part in dotted(func).split(".")[:-1])

    def subscript(self, node: ast.Subscript, scope: Dict[str, Any]) -> Any:
        value = self.evaluate(node.value, scope)
        index_node = node.slice
        index = self.evaluate(index_node, scope) if not isinstance(index_node, ast.Slice) else None
        if isinstance(value, Tensor) and isinstance(index, int) and not isinstance(index, bool):
            if value.reference.index is not None:
                raise Unresolvable(f"`{self.source(node)}` slices a tensor; lstmcalc follows whole layer outputs.",
                                   "Use a Keras layer for the operation (e.g. a Lambda is not readable either: "
                                   "use Reshape, Permute or a pooling layer).", node)
            return Tensor(Reference(value.reference.name, index, self.at(node)))
        if isinstance(value, (list, tuple, dict)):
            try:
                return value[index]
            except (IndexError, KeyError, TypeError):
                pass
        raise Unresolvable(f"`{self.source(node)}` cannot be resolved without running the code.",
                           "Pick whole outputs of layer calls (`outputs[1]`), not slices of tensors.", node)

    # -- calls -----------------------------------------------------------------------------------

    def call(self, node: ast.Call, scope: Dict[str, Any]) -> Any:
        func = node.func
        if isinstance(func, ast.Call) or (isinstance(func, ast.Name) and isinstance(scope.get(func.id), LayerObject)) \
                or (isinstance(func, ast.Name) and isinstance(self.names.get(func.id), LayerObject)):
            return self.apply(self.evaluate(func, scope), node, scope)
        if isinstance(func, ast.Name) and isinstance(scope.get(func.id, self.names.get(func.id)), Function):
            return self.inline(scope.get(func.id, self.names.get(func.id)), node, scope)
        if isinstance(func, ast.Name) and isinstance(scope.get(func.id, self.names.get(func.id)),
                                                     (SequentialModel, FunctionalModel)):
            # A model called on tensors: a nested model, one layer of the outer model.
            return self.apply(self.nested(scope.get(func.id, self.names.get(func.id)), node), node, scope)
        name = callee_name(func)
        name = self.aliases.get(name, name) if name else name
        if name is None:
            raise Unresolvable(f"Cannot tell what `{self.source(node)}` calls.",
                               "Call Keras classes by name (LSTM(...), layers.LSTM(...)).", node)
        if name in INPUT_CALLS:
            return self.make_input(node, name, scope)
        if name in SEQUENTIAL_CALLS:
            return self.make_sequential(node, scope)
        if name in MODEL_CALLS:
            return self.make_functional(node, scope)
        positional = [self.evaluate(argument, scope) for argument in node.args if not self.starred(argument)]
        keywords = self.keyword_values(node, scope)
        if self.is_value_module(func):
            config = dict(keywords)
            if positional:
                config["args"] = positional
            return {"class_name": name, "config": config}
        helper = self.merge_helper(name)
        if helper is not None and positional:
            # keras.layers.concatenate([a, b], axis=1): a Concatenate layer called on the list.
            layer = self.construct(node, helper, [], [(key, value, node) for key, value in keywords.items()], scope)
            return self.apply(layer, ast.Call(func=func, args=node.args[:1], keywords=[], lineno=node.lineno,
                                              col_offset=node.col_offset), scope, given=positional[0])
        if name[:1].isupper():
            located = [(keyword.arg, keywords[keyword.arg], keyword.value) for keyword in node.keywords]
            return self.construct(node, name, list(zip(positional, node.args)), located, scope)
        raise Unresolvable(f"`{self.source(node)}` is a function call lstmcalc does not run.",
                           "Write its result as a literal or a module-level constant.", node)

    @staticmethod
    def merge_helper(name: str) -> Optional[str]:
        """``concatenate`` → ``Concatenate`` when the registry has a list-taking layer of that name."""
        if not name[:1].islower():
            return None
        candidate = name[:1].upper() + name[1:]
        cls = layer_class(candidate)
        return candidate if cls is not None and cls.takes_tensor_list else None

    def starred(self, argument: ast.AST) -> bool:
        if isinstance(argument, ast.Starred):
            raise Unresolvable("`*args` cannot be resolved without running the code.", "Pass each argument.",
                               argument)
        return False

    def construct(self, node: ast.AST, type_name: str, positional: List[Tuple[Any, ast.AST]],
                  keywords: List[Tuple[str, Any, ast.AST]], scope: Dict[str, Any]) -> LayerObject:
        """A layer constructor call. Keras names the layer now (inner layers first)."""
        where = self.at(node)
        type_where = self.at(node.func) if isinstance(node, ast.Call) else where
        definition = LayerDef(type_name, where, type_where, source=self.source(node, 200))
        for value, value_node in positional:
            definition.positional.append(Argument(self.layer_value(value, value_node), self.at(value_node)))
        for key, value, value_node in keywords:
            definition.keywords[key] = Argument(self.layer_value(value, value_node), self.at(value_node))
        if definition.explicit_name is None:
            definition.keywords["name"] = Argument(self.namer.auto(type_name), where)
        return LayerObject(definition)

    def layer_value(self, value: Any, node: ast.AST) -> Any:
        """An argument value: a nested layer object becomes its definition."""
        if isinstance(value, LayerObject):
            value.calls = -1  # used as an argument (a wrapper's layer), not called on a tensor
            return value.definition
        if isinstance(value, (Tensor, SequentialModel, FunctionalModel)):
            raise Unresolvable(f"`{self.source(node)}` is a tensor or model where a layer argument belongs.",
                               "Tensors are passed when calling the layer: `layer(x)`.", node)
        return value

    def tensors(self, value: Any, node: ast.AST) -> List[Tensor]:
        items = list(value) if isinstance(value, (list, tuple)) else \
            list(value.values()) if isinstance(value, dict) else [value]
        if not all(isinstance(item, Tensor) for item in items) or not items:
            raise Unresolvable(f"`{self.source(node)}` is not a tensor (an Input or a layer's output).",
                               "Call layers on keras.Input(...) tensors or on other layers' outputs.", node)
        return items

    def apply(self, layer: Any, node: ast.Call, scope: Dict[str, Any], given: Any = None) -> Tensor:
        """``layer(x)``, ``layer([a, b])``, ``layer(x, initial_state=[h, c])``: one call."""
        if not isinstance(layer, LayerObject):
            raise Unresolvable(f"`{self.source(node.func)}` is not a layer.", "Call a Keras layer on the tensor.",
                               node.func)
        if not node.args:
            raise Unresolvable(f"`{self.source(node)}` calls a layer without an input tensor.",
                               "Pass the input: `layer(x)`.", node)
        value = self.evaluate(node.args[0], scope) if given is None else given  # evaluated once
        inputs = self.tensors(value, node.args[0])
        definition = layer.definition
        if layer.calls > 0:
            # A shared layer called again: a node of the same layer, `name[k]` as Keras numbers it.
            definition = LayerDef(layer.definition.type_name, self.at(node), layer.definition.type_location,
                                  shares=layer.definition.explicit_name, source=self.source(node, 200))
        elif layer.calls < 0:
            raise Unresolvable(f"`{definition.explicit_name}` is already the layer of a wrapper; calling it on a "
                               "tensor as well is not modelled.", "Use a separate layer.", node, "S020")
        layer.calls += 1
        definition.inputs = [tensor.reference for tensor in inputs]
        definition.inputs_as_list = isinstance(value, (list, tuple))
        for keyword in node.keywords:
            if keyword.arg == "initial_state":
                states = self.evaluate(keyword.value, scope)
                definition.initial_state = [tensor.reference for tensor in self.tensors(states, keyword.value)]
            elif keyword.arg not in ("training", "mask"):
                raise Unresolvable(f"The call argument `{keyword.arg}=` is not modelled by lstmcalc.",
                                   "Remove it from a copy of the model.", keyword.value)
        definition.location = self.at(node)
        self.calls.append(definition)
        return Tensor(Reference(self.node_name(definition, layer.calls - 1), None, self.at(node)))

    @staticmethod
    def node_name(definition: LayerDef, call: int) -> str:
        return f"{definition.shares}[{call}]" if definition.shares else definition.explicit_name

    def inline(self, function: Function, node: ast.Call, scope: Dict[str, Any]) -> Any:
        """A module-level function called with resolvable arguments: run its body symbolically."""
        if self.depth >= MAX_CALL_DEPTH:
            raise Unresolvable(f"Functions call each other more than {MAX_CALL_DEPTH} deep.",
                               "Build the model at module level.", node)
        definition = function.node
        parameters = definition.args
        names = [argument.arg for argument in parameters.posonlyargs + parameters.args]
        local: Dict[str, Any] = {}
        defaults = parameters.defaults
        for name, default in zip(names[len(names) - len(defaults):], defaults):
            local[name] = self.evaluate(default, self.names)
        for argument, default in zip(parameters.kwonlyargs, parameters.kw_defaults):
            if default is not None:
                local[argument.arg] = self.evaluate(default, self.names)
        for name, argument in zip(names, node.args):
            local[name] = self.evaluate(argument, scope)
        for keyword in node.keywords:
            if keyword.arg is None:
                raise Unresolvable("`**kwargs` cannot be resolved without running the code.",
                                   "Pass each argument by name.", keyword.value)
            local[keyword.arg] = self.evaluate(keyword.value, scope)
        for name in names + [argument.arg for argument in parameters.kwonlyargs]:
            if name not in local and name in self.bindings:
                local[name] = self.bindings[name]
            if name not in local:
                local[name] = Unresolved(
                    f"`{definition.name}` is called without a value for its parameter `{name}`.",
                    f"Pass it in the call, e.g. `{definition.name}({name}=64)`, give it a default, or give its "
                    f"value: --set {name}=64.", node)
        self.depth += 1
        try:
            return self.run(definition.body, local)
        finally:
            self.depth -= 1

    # -- inputs and models -----------------------------------------------------------------------

    def make_input(self, node: ast.Call, name: str, scope: Dict[str, Any]) -> Tensor:
        keywords = self.keyword_values(node, scope)
        positional = [self.evaluate(argument, scope) for argument in node.args if not self.starred(argument)]
        shape = keywords.get("shape", keywords.get("input_shape", positional[0] if positional else None))
        batch = keywords.get("batch_size")
        batch_shape = keywords.get("batch_shape", keywords.get("batch_input_shape"))
        if batch_shape is not None and isinstance(batch_shape, (list, tuple)) and batch_shape:
            batch, shape = batch_shape[0], tuple(batch_shape[1:])
        where = self.at(node)
        if shape is None:
            raise Unresolvable(f"`{name}(...)` has no shape.", "Write e.g. `Input(shape=(50, 10))`.", node)
        if isinstance(shape, int) and not isinstance(shape, bool):
            shape = (shape,)  # Keras accepts Input(10) for (10,)
        checked = self.spec_reader.shape(shape, where, "the input shape")
        dtype = self.spec_reader.dtype(keywords.get("dtype"), where)
        input_name = keywords.get("name") if isinstance(keywords.get("name"), str) else self.namer.auto(INPUT_TYPE)
        if batch is not None and (isinstance(batch, bool) or not isinstance(batch, int) or batch < 1):
            raise Unresolvable(f"`batch_size` must be a positive whole number, got {batch!r}.",
                               "Write e.g. `batch_size=32`.", node)
        self.inputs[input_name] = InputDef(input_name, checked, dtype, where, batch)
        return Tensor(Reference(input_name, None, where))

    def input_from_batch_shape(self, shape: Any, node: ast.AST) -> Optional[InputDef]:
        if not isinstance(shape, (list, tuple)) or not shape:
            raise Unresolvable("`build` needs the batch shape, e.g. `model.build((None, 50, 10))`.",
                               "Or start the model with keras.Input(shape=(50, 10)).", node)
        where = self.at(node)
        batch = shape[0] if isinstance(shape[0], int) else None
        return InputDef(None, self.spec_reader.shape(tuple(shape[1:]), where, "the input shape"), "float32",
                        where, batch)

    def make_sequential(self, node: ast.Call, scope: Dict[str, Any]) -> SequentialModel:
        keywords = self.keyword_values(node, scope)
        name = keywords.get("name") if isinstance(keywords.get("name"), str) else self.namer.auto("Sequential")
        model = SequentialModel(name, node)
        items_node = node.args[0] if node.args else next(
            (keyword.value for keyword in node.keywords if keyword.arg == "layers"), None)
        if items_node is not None:
            items = self.evaluate(items_node, scope)
            if not isinstance(items, (list, tuple)):
                raise Unresolvable("Sequential takes a list of layers.", "Write Sequential([LSTM(64), Dense(1)]).",
                                   items_node)
            nodes = items_node.elts if isinstance(items_node, (ast.List, ast.Tuple)) else [items_node] * len(items)
            for item, item_node in zip(items, nodes):
                self.add_to_sequential(model, item, item_node)
        return model

    def add_to_sequential(self, model: SequentialModel, item: Any, node: ast.AST) -> None:
        if isinstance(item, Tensor) and item.reference.name in self.inputs and not model.layers \
                and model.input is None:
            model.input = self.inputs[item.reference.name]
            return
        if isinstance(item, LayerObject):
            if item.calls > 0 or item.definition in model.layers:
                raise Unresolvable(f"`{item.definition.explicit_name}` is used twice (a shared layer); lstmcalc "
                                   "models each layer once.", "Give each use its own layer.", node, "S020")
            item.calls = 1
            item.definition.index = len(model.layers)
            model.layers.append(item.definition)
            return
        if isinstance(item, (SequentialModel, FunctionalModel)):
            self.add_to_sequential(model, self.nested(item, node), node)
            return
        raise Unresolvable(f"`{self.source(node)}` is not a layer.", "Sequential takes Keras layers.", node)

    def make_functional(self, node: ast.Call, scope: Dict[str, Any]) -> FunctionalModel:
        keywords = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg}
        inputs_node = keywords.get("inputs", node.args[0] if node.args else None)
        outputs_node = keywords.get("outputs", node.args[1] if len(node.args) > 1 else None)
        if inputs_node is None or outputs_node is None:
            raise Unresolvable("Model(...) needs `inputs` and `outputs` (a subclassed model's call() is not read).",
                               "Write keras.Model(inputs=..., outputs=...).", node)
        inputs = self.tensors(self.evaluate(inputs_node, scope), inputs_node)
        outputs = self.tensors(self.evaluate(outputs_node, scope), outputs_node)
        name = self.evaluate(keywords["name"], scope) if "name" in keywords else self.namer.auto("Functional")
        for tensor in inputs:
            if tensor.reference.name not in self.inputs:
                raise Unresolvable(f"`{self.source(inputs_node)}` must be keras.Input tensors.",
                                   "Pass the tensors keras.Input(...) returned.", inputs_node)
        return FunctionalModel(name if isinstance(name, str) else None, node, inputs, outputs)

    def nested(self, model: Any, node: ast.AST) -> LayerObject:
        """The layer a model becomes when it is used inside another (the same object each time)."""
        self.used_models.add(id(model))
        if id(model) not in self.nested_layers:
            type_name = "Sequential" if isinstance(model, SequentialModel) else "Functional"
            definition = LayerDef(type_name, self.at(node), self.at(node), source=self.source(node, 200))
            definition.keywords["model"] = Argument(self.spec(model, nested=True), self.at(model.node))
            definition.keywords["name"] = Argument(model.name, self.at(model.node))
            self.nested_layers[id(model)] = LayerObject(definition)
        return self.nested_layers[id(model)]

    # -- the result ------------------------------------------------------------------------------

    def model(self, last: Any) -> Optional[Tuple[str, Any]]:
        candidates = [(name, model) for name, model in self.models if id(model) not in self.used_models]
        if isinstance(last, (SequentialModel, FunctionalModel)) and id(last) not in self.used_models:
            candidates.append(("<expression>", last))
        unique: Dict[int, Tuple[str, Any]] = {}
        for name, model in candidates:
            unique[id(model)] = (name, model)
        found = list(unique.values())
        if len(found) > 1:
            named = [item for item in found if item[0] == "model"]
            if len(named) == 1:
                return named[0]
            self.report(Unresolvable(
                "The file builds several models (" + ", ".join(f"`{name}`" for name, _ in found) + "); lstmcalc "
                "reads one.", "Keep one model per file, or name the one to read `model`.", found[-1][1].node))
            return None
        return found[0] if found else None

    def spec(self, model: Any, nested: bool = False) -> ModelSpec:
        """The ModelSpec of a model; a ``nested`` Sequential may leave its input to the tensor it
        is called on (Keras builds it then)."""
        spec = ModelSpec(file=self.file, name=model.name)
        spec.top_locations["outputs"] = self.at(model.node)
        if isinstance(model, SequentialModel):
            if model.problem is not None:
                self.report(model.problem)
            spec.layers = list(model.layers)
            if model.input is not None:
                spec.inputs = [model.input]
            elif not nested or any(key in spec.layers[0].keywords for key in ("input_shape", "input_dim")):
                spec.inputs = self.spec_reader._input_from_first_layer(spec, self.at(model.node))
            for layer in spec.layers:
                layer.inputs = None
            return spec
        spec.functional = True
        needed = self.ancestors([tensor.reference for tensor in model.outputs])
        spec.layers = [definition for definition in self.calls
                       if id(definition) in {id(item) for item in needed.values()}]
        for index, definition in enumerate(spec.layers):
            definition.index = index
        spec.inputs = [self.inputs[tensor.reference.name] for tensor in model.inputs]
        spec.outputs = [tensor.reference for tensor in model.outputs]
        return spec

    def ancestors(self, references: List[Reference]) -> Dict[str, LayerDef]:
        by_name, counts = {}, {}
        for definition in self.calls:
            if definition.shares:
                counts[definition.shares] = counts.get(definition.shares, 0) + 1
                by_name[f"{definition.shares}[{counts[definition.shares]}]"] = definition
            else:
                by_name[definition.explicit_name] = definition
        seen: Dict[str, LayerDef] = {}
        pending = [reference.name for reference in references]
        while pending:
            name = pending.pop()
            definition = by_name.get(name)
            if name in seen or definition is None:
                continue
            seen[name] = definition
            pending.extend(ref.name for ref in (definition.inputs or []) + (definition.initial_state or []))
            if definition.shares:
                pending.append(definition.shares)  # the call needs the layer's first call
        return seen


def read_python(text: str, file: str,
                bindings: Optional[Dict[str, Any]] = None) -> Tuple[Optional[ModelSpec], List[Diagnostic]]:
    """The ModelSpec of the Keras model that Python source builds (read, never run); ``bindings``
    give names their values (``--set``), over what the source assigns."""
    reader = PythonReader(text, file, bindings)
    tree, problem = parse_source(text, file)
    if tree is None:
        return None, [problem]
    last = None
    body = tree.body
    try:
        reader.run(body[:-1] if body and isinstance(body[-1], ast.Expr) else body, reader.names)
        if body and isinstance(body[-1], ast.Expr):
            if isinstance(body[-1].value, ast.Call) and isinstance(body[-1].value.func, ast.Attribute) and \
                    body[-1].value.func.attr in ("add", "build", "summary", "compile", "fit"):
                reader.run(body[-1:], reader.names)
            else:
                # A snippet that is one expression: `Sequential([...])` pasted on the command line.
                last = reader.evaluate(body[-1].value, reader.names)
    except Unresolvable as problem:
        reader.report(problem)
    except RecursionError:
        return None, [too_deep(file)]
    chosen = reader.model(last)
    if chosen is None and isinstance(last, LayerObject):
        reader.report(Unresolvable(
            f"`{reader.source(body[-1].value)}` is one layer, not a model: it has no input shape.",
            "Give the input: `lstmcalc summary --input 50,10 \"LSTM(64)\" \"Dense(1)\"`, or write the whole "
            "model: \"Sequential([Input((50, 10)), LSTM(64), Dense(1)])\".", body[-1].value))
    if chosen is None:
        if not any(diagnostic.code == "S018" for diagnostic in reader.diagnostics):
            reader.report(Unresolvable(
                "No Keras model found: lstmcalc looks for keras.Sequential([...]), model.add(...) or "
                "keras.Model(inputs, outputs) (a subclassed model's call() is not read).",
                "Build the model at module level or in a function called at module level.", None))
        return None, reader.diagnostics
    return reader.spec(chosen[1]), reader.diagnostics
