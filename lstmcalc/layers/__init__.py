"""The layer registry: Keras class name → lstmcalc layer class."""

from . import conv, core, merge, models, normalization, recurrent, wrappers  # noqa: F401  (registration)
from .base import LAYER_TYPES, Layer, Rank, ShapeProblem, TensorSpec, Weight, check_inputs, register

__all__ = ["LAYER_TYPES", "Layer", "Rank", "ShapeProblem", "TensorSpec", "Weight", "check_inputs",
           "register"]
