"""From a written LayerDef to a Layer: class lookup, positional mapping, argument checks, and
Keras 3's default names (snake_case of the class, then ``_1``, ``_2``, ... per class)."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Dict, List, Optional, Tuple

from ..diagnostics import Diagnostic, make
from ..spec.model import LayerDef
from ..spec.source import Location
from ..suggest import closest
from ..diagnostics import Problem
from .base import Layer
from .registry import foreign_argument_hint, foreign_argument_name, foreign_type_hint, layer_class, type_names


def snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: ``GlobalAveragePooling1D`` → ``global_average_pooling1d``."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class Namer:
    """Keras's per-prefix counters: the first LSTM is ``lstm``, the next ``lstm_1``."""

    def __init__(self) -> None:
        self.counts: Dict[str, int] = defaultdict(int)

    def auto(self, class_name: str) -> str:
        prefix = snake_case(class_name)
        count = self.counts[prefix]
        self.counts[prefix] += 1
        return prefix if count == 0 else f"{prefix}_{count}"


class LayerFactory:
    """Creates layers in construction order, as Keras code would (inner layers first)."""

    def __init__(self, convention: str = "keras", namer: Optional[Namer] = None, framework: str = "keras"):
        self.convention = convention
        self.namer = namer or Namer()
        self.framework = framework  # the spec's: whose layer types the names are

    def create(self, definition: LayerDef) -> Tuple[Optional[Layer], List[Diagnostic]]:
        cls = layer_class(definition.type_name, self.framework)
        label = definition.explicit_name
        if cls is None:
            known = type_names(self.framework)
            suggestion = closest(definition.type_name, known)
            hint = foreign_type_hint(definition.type_name, self.framework) or (
                f"Did you mean `{suggestion}`?" if suggestion else "Supported: " + ", ".join(known) + ".")
            if suggestion and label is None:
                # The name it takes once the type is fixed, so that the layers after it keep theirs.
                label = definition.assigned_name = layer_class(suggestion, self.framework).default_name(
                    self.namer, definition.index)
            return None, [make("S003", f"Unknown layer type `{definition.type_name}`.", hint,
                               layer=label, location=definition.type_location)]
        problems: List[Diagnostic] = []
        values: Dict[str, object] = {}
        locations: Dict[str, Location] = {}
        own = [argument.name for argument in cls.arguments]
        for index, argument in enumerate(definition.positional):
            if index >= len(own):
                problems.append(make(
                    "S008", f"{cls.keras_class} takes at most {len(own)} positional argument(s) "
                            f"({', '.join(own[:4])}{', ...' if len(own) > 4 else ''}); got {len(definition.positional)}.",
                    "Pass the others by keyword, e.g. return_sequences=True.",
                    layer=label, location=argument.location))
                continue
            values[own[index]] = argument.value
            locations[own[index]] = argument.location
        schema = {argument.name: argument for argument in cls.all_arguments()}
        misspelt = set()
        for key, argument in definition.keywords.items():
            if key not in schema:
                suggestion = closest(key, schema)
                misspelt.update((suggestion, foreign_argument_name(cls, key)))
                hint = foreign_argument_hint(cls, key) or (
                    f"Did you mean `{suggestion}`?" if suggestion else f"{cls.keras_class} takes: " + ", ".join(own) + ".")
                problems.append(make("S004", cls.unknown_argument_message(key), hint,
                                     layer=label, location=argument.location))
                continue
            if key in values:
                problems.append(make("S008", f"{cls.keras_class} got two values for `{key}`.",
                                     f"Give `{key}` once, positionally or by keyword.",
                                     layer=label, location=argument.location))
                continue
            values[key] = argument.value
            locations[key] = argument.location
        # The call itself fails (an unknown or missing argument, one given twice) before the
        # constructor's body runs, so before any warning the framework would give in it.
        call_refused = any(problem.is_error for problem in problems)
        refused: List[str] = []  # the arguments whose own check failed
        config: Dict[str, object] = {}
        for name, argument in schema.items():
            if name not in values:
                if argument.required:
                    if name not in misspelt:
                        problems.append(make(
                            "S007", cls.missing_argument_message(name),
                            f"Add it, e.g. {cls.keras_class}({_example(cls.keras_class, name)}).",
                            layer=label, location=definition.location))
                else:
                    config[name] = argument.default
                continue
            try:
                config[name] = argument.check(name, values[name])
            except Problem as error:
                refused.append(name)
                problems.append(make(error.code, f"{cls.keras_class}: {error.message}", error.hint,
                                     layer=label, location=locations[name]))
        # Nested layers are constructed (and named) before the wrapper, as in Keras code.
        inner_problems: List[Tuple[str, Diagnostic]] = []
        for name in list(values):
            if isinstance(config.get(name), LayerDef):
                inner, found = self.create(config[name])  # type: ignore[arg-type]
                inner_problems += [(name, problem) for problem in found]
                config[name] = inner
        # A layer takes its default name even when it cannot be built: the names of the layers
        # after it are then those they keep once it is fixed (the choice is documented in
        # docs/diagnostics.md, "Layer names").
        name = label or cls.default_name(self.namer, definition.index)
        if definition.scope:
            name = f"{definition.scope}.{name}"  # a module inside a container: its named_modules() path
        definition.assigned_name = name
        problems = [problem.changed(layer=problem.layer or name) for problem in problems]
        for key, problem in inner_problems:
            # Errors inside a wrapped layer are the wrapper's: name it, keep the inner position.
            problems.append(problem.changed(layer=name, message=f"In `{key}` of {name} "
                                            f"({cls.keras_class}): {problem.message}"))
        if any(problem.is_error for problem in problems):
            if not call_refused and not inner_problems:
                problems += self._refusal_warnings(cls, values, refused, locations, definition, name)
            return None, sorted(problems, key=lambda problem: (problem.line or 0, problem.column or 0))
        config["name"] = name
        layer = cls(name, config, self.convention, locations)
        try:
            layer.check_config()
        except Problem as problem:
            where = locations.get(problem.argument or "", definition.location)
            return None, self._refusal_warnings(cls, values, [], locations, definition, name) + [
                make(problem.code, problem.message, problem.hint, layer=name, location=where)]
        warnings = [make(problem.code, problem.message, problem.hint, layer=name,
                         location=locations.get(problem.argument or "", definition.location))
                    for problem in layer.construction_warnings()]
        return layer, problems + warnings


    @staticmethod
    def _refusal_warnings(cls, values, refused, locations, definition, name) -> List[Diagnostic]:
        """The warnings the framework gives while constructing a layer it then refuses (the class
        says which, from the arguments as written and those refused)."""
        return [make(problem.code, problem.message, problem.hint, layer=name,
                     location=locations.get(problem.argument or "", definition.location))
                for problem in cls.warnings_before_refusal(values, refused)]

def _example(class_name: str, argument: str) -> str:
    examples = {"units": "64", "rate": "0.2", "n": "5", "filters": "16", "kernel_size": "3",
                "input_dim": "10000", "output_dim": "128", "target_shape": "(5, 2)", "dims": "(2, 1)",
                "layer": "LSTM(32)", "activation": "'relu'", "pool_size": "2", "hidden_size": "64",
                "out_features": "10", "num_embeddings": "10000", "embedding_dim": "128",
                "normalized_shape": "64", "out_channels": "16"}
    return f"{argument}={examples.get(argument, '...')}"
