"""Layer types: one class per type (the contract in base.py), one module per family, found
through the lazily importing registry (registry.py)."""

from .base import Layer, TensorSpec, Weight
from .registry import all_layer_classes, layer_class, type_names

__all__ = ["Layer", "TensorSpec", "Weight", "all_layer_classes", "layer_class", "type_names"]
