"""The layer registry: Keras class name → lstmcalc layer class."""

from . import conv, core, merge, normalization, recurrent, wrappers  # noqa: F401  (registration)
from .base import LAYER_TYPES, Layer, Rank, Problem, TensorSpec, Weight, check_inputs, register

__all__ = ["LAYER_TYPES", "Layer", "Rank", "Problem", "TensorSpec", "Weight", "check_inputs",
           "register"]
