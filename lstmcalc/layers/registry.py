"""The layer registry: type name → the family module that defines its class, imported on first use,
so that a spec pays at start-up only for the layer families it uses. Each framework a spec can
follow (`framework: keras` or `pytorch`) has its own table: LSTM is one class in each.

Each family module registers its classes with ``@register``; the family tables must name every one
of them (tests/test_layer_contract.py checks both directions).
"""

from importlib import import_module
from typing import Dict, List, Optional, Type

from .base import FRAMEWORK_LAYER_TYPES, Layer
from .frameworks import DEFAULT, KERAS, PYTORCH

# Keras: type name as Keras spells it → module in lstmcalc.layers.
FAMILIES: Dict[str, str] = {
    **dict.fromkeys(("Dense", "Embedding", "Masking", "Dropout", "SpatialDropout1D", "Activation"), "core"),
    **dict.fromkeys(("RepeatVector", "Flatten", "Reshape", "Permute", "UpSampling1D", "UpSampling2D",
                     "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D", "Cropping2D"), "reshaping"),
    **dict.fromkeys(("Conv1D", "Conv2D", "Conv3D"), "conv"),
    **dict.fromkeys(("MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D", "GlobalMaxPooling1D"),
                    "pooling"),
    **dict.fromkeys(("MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
                     "MaxPooling3D", "AveragePooling3D", "GlobalAveragePooling3D", "GlobalMaxPooling3D"), "pooling"),
    **dict.fromkeys(("SimpleRNN", "GRU", "LSTM"), "recurrent"),
    **dict.fromkeys(("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"), "conv_recurrent"),
    **dict.fromkeys(("Bidirectional", "TimeDistributed"), "wrappers"),
    **dict.fromkeys(("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot"),
                    "merge"),
    **dict.fromkeys(("Attention", "AdditiveAttention"), "attention"),
    **dict.fromkeys(("LayerNormalization", "BatchNormalization"), "normalization"),
    **dict.fromkeys(("Sequential", "Functional"), "models"),
}


# torch.nn's module names (and lstmcalc's spec steps for what PyTorch code does in forward()).
PYTORCH_FAMILIES: Dict[str, str] = {
    **dict.fromkeys(("LSTM", "GRU", "RNN"), "torch_recurrent"),
    **dict.fromkeys(("Linear", "Embedding", "LayerNorm", "Dropout", "Flatten", "ReLU", "Tanh", "Sigmoid", "GELU",
                     "SiLU", "ELU", "LeakyReLU",
                     "Softmax", "Unflatten", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool2d"), "torch_nn"),
    **dict.fromkeys(("LastStep", "Select", "Permute", "Transpose", "Unsqueeze", "Narrow", "Mean", "Amax"),
                    "torch_steps"),
    "BatchNorm1d": "torch_normalization",
    **dict.fromkeys(("Cat", "Add", "Sub", "Mul", "Average", "Maximum", "Minimum"), "torch_merge"),
}

FRAMEWORK_FAMILIES: Dict[str, Dict[str, str]] = {KERAS: FAMILIES, PYTORCH: PYTORCH_FAMILIES}


def type_names(framework: str = KERAS) -> List[str]:
    """Every layer type lstmcalc knows in ``framework``, without importing any family."""
    return sorted(FRAMEWORK_FAMILIES[framework])


def layer_class(type_name: str, framework: str = KERAS) -> Optional[Type[Layer]]:
    """The class of ``type_name`` in ``framework``, importing its family on first use; None for an
    unknown type."""
    family = FRAMEWORK_FAMILIES[framework].get(type_name)
    if family is None:
        return None
    registered = FRAMEWORK_LAYER_TYPES[framework]
    if type_name not in registered:
        import_module(f"{__package__}.{family}")
    return registered[type_name]


def all_layer_classes(framework: str = KERAS) -> Dict[str, Type[Layer]]:
    """Every registered class of ``framework``, every family imported (for the JSON Schema, docs
    and tests)."""
    return {name: layer_class(name, framework) for name in type_names(framework)}  # type: ignore[misc]


# -- a name from the other framework ------------------------------------------------------------

def foreign_type_hint(type_name: str, framework: str) -> Optional[str]:
    """For a type ``framework`` does not know but the other framework does (`Dense` in a PyTorch
    spec, `Linear` in a Keras one): what it is there and what to write instead; else None."""
    from .frameworks import FRAMEWORKS, other_framework

    here, there = FRAMEWORKS[framework], FRAMEWORKS[other_framework(framework)]
    cls = layer_class(type_name, there.name)
    if cls is None:
        return None
    switch = (f"add `framework: {there.name}` at the top of the spec" if there.name != DEFAULT
              else f"remove `framework: {here.name}` from the spec")
    equivalent = cls.equivalent_in(here.name)
    if equivalent:
        target = layer_class(equivalent, here.name)
        own = [argument.name for argument in target.arguments] if target is not None else []
        takes = f" (it takes {', '.join(own[:4])}{', …' if len(own) > 4 else ''})" if own else ""
        return (f"`{type_name}` is a {there.title} {there.layer_word} ({there.namespace}) and this spec follows "
                f"{here.title}: write `{equivalent}`{takes}; or, to describe a {there.title} model, {switch}.")
    return (f"`{type_name}` is a {there.title} {there.layer_word} ({there.namespace}) with no {here.title} "
            f"{here.layer_word} lstmcalc knows; this spec follows {here.title}. To describe a {there.title} "
            f"model, {switch}.")


def foreign_argument_hint(cls: Type[Layer], key: str) -> Optional[str]:
    """For a keyword ``cls`` does not take but its counterpart in the other framework does
    (`hidden_size` on Keras's LSTM, `units` on torch.nn.LSTM): what to write; else None."""
    from .frameworks import FRAMEWORKS, other_framework

    here, there = FRAMEWORKS[cls.framework], FRAMEWORKS[other_framework(cls.framework)]
    advice = cls.foreign_argument_advice(key)
    if advice:
        return advice
    counterpart_name = cls.equivalent_in(there.name)
    counterpart = layer_class(counterpart_name, there.name) if counterpart_name else None
    if counterpart is None or key not in counterpart.argument_names():
        return None
    ours = counterpart.own_name_of(key, here.name)
    switch = (f"add `framework: {there.name}` at the top of the spec" if there.name != DEFAULT
              else f"remove `framework: {here.name}`")
    instead = f"{here.title}'s {cls.keras_class} calls it `{ours}`" if ours else \
        f"{here.title}'s {cls.keras_class} has no such argument"
    return (f"`{key}` is an argument of {there.namespace}.{counterpart.keras_class}; {instead}. To describe "
            f"a {there.title} model, {switch}.")


def foreign_argument_name(cls: Type[Layer], key: str) -> Optional[str]:
    """What ``cls`` calls the other framework's keyword ``key`` (units → hidden_size on
    torch.nn.LSTM, hidden_size → units on Keras's), or None."""
    from .frameworks import other_framework

    own = cls.own_name_for(key)
    if own:
        return own
    counterpart_name = cls.equivalent_in(other_framework(cls.framework))
    counterpart = layer_class(counterpart_name, other_framework(cls.framework)) if counterpart_name else None
    return (counterpart.own_name_of(key, cls.framework) or None) if counterpart is not None else None
