"""The verifier: a NumPy forward pass that checks every propagated shape (result.py: what it
found; arrays.py: weights and inputs from files; run.py: the pass itself)."""

from .arrays import save_outputs
from .result import (DEFAULT_BATCH_SIZE, DEFAULT_MAX_MEMORY, DEFAULT_TIMESTEPS, LayerCheck, MemoryEstimate,
                     TensorCheck, VerifyOptions, VerifyResult, parse_memory_size)
from .run import output_names, verify_report

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_MAX_MEMORY", "DEFAULT_TIMESTEPS", "LayerCheck", "MemoryEstimate",
           "TensorCheck", "VerifyOptions", "VerifyResult", "output_names", "parse_memory_size", "save_outputs",
           "verify_report"]
