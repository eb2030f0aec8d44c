#!/usr/bin/env python3
"""Record what REAL PyTorch computes, for the verifier's `framework: pytorch` numeric tests.

Reads  tests/fixtures/pytorch/numerics_cases.yaml       ({id, spec, note?, initial_state?, unbatched?})
Writes tests/fixtures/pytorch/numerics/<id>.npz, one small file per case, holding
    spec                 the lstmcalc `framework: pytorch` spec, as JSON text (every layer named)
    meta                 JSON text: torch version, note, the `initial_state` layer, `unbatched`,
                         the keyword arguments the recorder inferred per layer
    weights/<key>        the model's state_dict, keyed `<layer name>.<parameter>` (`lstm.weight_hh_l0_reverse`)
    inputs/input         the input tensor, in the layout of the spec (batch first, or second when
                         the first recurrent module has batch_first=False)
    initial_state/<i>    h_0 (0) and, for an LSTM, c_0 (1) given to the `initial_state` layer
    outputs/<key>        the last layer's outputs, keyed as `lstmcalc verify --output` keys them:
                         `<name>` (output), `<name>[1]` (h_n), `<name>[2]` (c_n)
    intermediate/<key>   the same for every other layer (to find where a forward pass goes wrong)
    weights_after/<key>  only where torch changes a weight during forward (Embedding max_norm
                         renormalises the rows it looks up, in place)

Every parameter, biases included, is set to seeded random values, so gate orders and the two
bias vectors really matter. Modules run in eval mode (inter-layer dropout off), under no_grad.

Run from the repository root with torch installed (never needed by the tests):

    /work/torchenv/bin/python scripts/record_pytorch_numerics.py
    /work/torchenv/bin/python scripts/record_pytorch_numerics.py --only lstm-bidirectional-two-layers

Output is deterministic (seed per case from its id).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder_cases import parse_arguments  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pytorch_spec import SpecRun, make_input, randomise, seeded_rng  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CASES = os.path.join(ROOT, "tests", "fixtures", "pytorch", "numerics_cases.yaml")
DEFAULT_OUT = os.path.join(ROOT, "tests", "fixtures", "pytorch", "numerics")


def write_npz(path, arrays):
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def run_case(case):
    rng = seeded_rng(case["id"])
    spec = case["spec"]
    unnamed = [entry for entry in spec["layers"] if "name" not in entry]
    if unnamed:
        raise SystemExit(f"{case['id']}: every layer needs a name (the weights are keyed by it): {unnamed}")
    x = make_input(spec, rng, unbatched=case.get("unbatched", False))
    run = SpecRun(spec, x, initial_state=case.get("initial_state"), rng=rng,
                  initialise=lambda module, name: randomise(module, rng))
    if not run.ok:
        raise SystemExit(f"{case['id']}: torch refused the case: {run.error}")
    return run


def arrays_of(case, run):
    meta = {"torch_version": torch.__version__, "note": case.get("note"),
            "initial_state": (case.get("initial_state") or {}).get("layer"),
            "unbatched": case.get("unbatched", False),
            "inferred": {layer["name"]: {key: layer["torch_kwargs"][key] for key in layer["inferred"]}
                         for layer in run.layers if layer["inferred"]},
            "warnings": [w["core_message"] for w in run.warnings]}
    arrays = {"spec": np.array(json.dumps(case["spec"], sort_keys=True)),
              "meta": np.array(json.dumps(meta, sort_keys=True)), **run.arrays()}
    for key, value in run.model.state_dict().items():
        if not torch.equal(value, run.weights_before[key]):
            arrays[f"weights_after/{key}"] = value.numpy()
    return arrays


def main(argv=None):
    args, cases = parse_arguments(__doc__.splitlines()[0], DEFAULT_CASES, DEFAULT_OUT, argv)
    os.makedirs(args.out, exist_ok=True)
    for case in cases:
        run = run_case(case)
        write_npz(os.path.join(args.out, case["id"] + ".npz"), arrays_of(case, run))
    print(f"recorded {len(cases)} cases with torch {torch.__version__} -> {os.path.relpath(args.out, ROOT)}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
