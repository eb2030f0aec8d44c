"""The layer registry: type name → the family module that defines its class, imported on first use,
so that a spec pays at start-up only for the layer families it uses.

Each family module registers its classes with ``@register``; ``FAMILIES`` must name every one of
them (tests/test_layer_contract.py checks both directions).
"""

from __future__ import annotations

from importlib import import_module
from typing import Dict, List, Optional, Type

from .base import LAYER_TYPES, Layer

# Type name as Keras (or torch.nn) spells it → module in lstmcalc.layers.
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


def type_names() -> List[str]:
    """Every layer type lstmcalc knows, without importing any family."""
    return sorted(FAMILIES)


def layer_class(type_name: str) -> Optional[Type[Layer]]:
    """The class of ``type_name``, importing its family on first use; None for an unknown type."""
    family = FAMILIES.get(type_name)
    if family is None:
        return None
    if type_name not in LAYER_TYPES:
        import_module(f"{__package__}.{family}")
    return LAYER_TYPES[type_name]


def all_layer_classes() -> Dict[str, Type[Layer]]:
    """Every registered class, every family imported (for the JSON Schema, docs and tests)."""
    return {name: layer_class(name) for name in type_names()}  # type: ignore[misc]
