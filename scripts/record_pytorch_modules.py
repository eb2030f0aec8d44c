#!/usr/bin/env python3
"""Record what REAL PyTorch does with `framework: pytorch` specs: shapes, parameters, errors, warnings.

Reads  tests/fixtures/pytorch/modules_cases.yaml            (the grid and the chains)
Writes tests/fixtures/pytorch/modules_reference.json
       (--cases tests/fixtures/pytorch/modules_invalid_cases.yaml
        --out   tests/fixtures/pytorch/modules_invalid_reference.json for the invalid cases)

A case is {id, spec, note?, grid?, grid_layer?, unbatched?, feed_shape?, initial_state?, input_range?}:
- `spec`: an lstmcalc `framework: pytorch` spec (scripts/pytorch_spec.py describes the format, the
  layout rule and which sizes the recorder infers).
- `grid`: {keyword: [values]} expands the case into one case per combination, set on the layer
  `grid_layer` (default 0); the expanded id appends `-<keyword>-<value>` for each keyword.
- `unbatched: true`: the input tensor is `spec.input` exactly, with no batch axis.
- `feed_shape`: the exact shape of the tensor fed, overriding the layout rule (to record what torch
  does with a tensor in the wrong layout).
- `initial_state`: {layer: name or index, shapes?: [[...], ...]} passes states to that recurrent
  module: a tuple of random tensors of `shapes` (default: the shapes torch expects, h_0 then c_0;
  an LSTM always gets a tuple); {layer, shape: [...]} passes one bare tensor instead.
- `input_range`: [low, high) of the random input (token ids: default [0, num_embeddings)).

Each layer is constructed and then run in order (eval mode); the first exception stops the case
and is recorded with its stage (`construct` = the module's constructor raised, `forward` = its
first call raised), the layer index and name, the exception type and the full message. Python
warnings are recorded per stage and layer (`torch.set_warn_always(True)`, so a C++ warn-once
warning is recorded for every case, and `core_message` drops torch's "(Triggered internally at
<build path>)" suffix). Recorded per layer: the torch keyword arguments passed (and which were
inferred), repr, input and output shapes of every returned tensor (output, h_n, c_n),
named_parameters (name, shape, requires_grad, numel), parameter counts; per case: the model's
named_parameters keyed `<layer name>.<parameter>` (layers without `name` are named by index),
totals, state_dict keys.

Run from the repository root with torch installed (never needed by the tests):

    /work/torchenv/bin/python scripts/record_pytorch_modules.py
    /work/torchenv/bin/python scripts/record_pytorch_modules.py \\
        --cases tests/fixtures/pytorch/modules_invalid_cases.yaml \\
        --out tests/fixtures/pytorch/modules_invalid_reference.json
    ... --only lstm-num-layers-2-bidirectional-true-batch-first-true-proj-size-0   # print one case

Output is deterministic (seed per case from its id, sorted keys).
"""

import copy
import itertools
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder_cases import parse_arguments, pin_hash_seed  # noqa: E402

pin_hash_seed()  # torch messages print Python sets (e.g. Conv1d's allowed padding strings)

import torch  # noqa: E402

from pytorch_spec import SpecRun, make_input, seeded_rng, write_reference  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CASES = os.path.join(ROOT, "tests", "fixtures", "pytorch", "modules_cases.yaml")
DEFAULT_OUT = os.path.join(ROOT, "tests", "fixtures", "pytorch", "modules_reference.json")


def id_fragment(key, value):
    text = str(value).lower() if not isinstance(value, float) else str(value).replace(".", "p")
    return f"{key.strip('_').replace('_', '-')}-{text}"


def expand_grid(cases):
    """Cases with `grid:` become one case per combination of its values (in the given key order)."""
    expanded = []
    for case in cases:
        grid = case.get("grid")
        if not grid:
            expanded.append(case)
            continue
        keys = list(grid)
        for values in itertools.product(*(grid[key] for key in keys)):
            single = copy.deepcopy({k: v for k, v in case.items() if k not in ("grid", "grid_layer")})
            layer = single["spec"]["layers"][case.get("grid_layer", 0)]
            for key, value in zip(keys, values):
                layer[key] = value
            single["id"] = "-".join([case["id"]] + [id_fragment(k, v) for k, v in zip(keys, values)])
            single["grid_of"] = case["id"]
            expanded.append(single)
    return expanded


def record(case):
    rng = seeded_rng(case["id"])
    torch.manual_seed(0)
    spec = case["spec"]
    x = make_input(spec, rng, unbatched=case.get("unbatched", False), shape=case.get("feed_shape"),
                   value_range=case.get("input_range"))
    run = SpecRun(spec, x, initial_state=case.get("initial_state"), rng=rng)
    result = run.summary()
    for key in ("note", "spec", "unbatched", "feed_shape", "initial_state", "input_range", "grid_of"):
        if key in case:
            result[key] = case[key]
    return result


def main(argv=None):
    args, cases = parse_arguments(__doc__.splitlines()[0], DEFAULT_CASES, DEFAULT_OUT, argv, expand=expand_grid)
    document = {"torch_version": torch.__version__, "cases": {case["id"]: record(case) for case in cases}}
    write_reference(args, document, ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
