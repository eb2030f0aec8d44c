#!/usr/bin/env python3
"""Record how REAL PyTorch stores the recurrent layers that `lstmcalc explain` translates.

Reads  tests/fixtures/pytorch/cases.yaml        (list of {id, keras, input, torch})
Writes tests/fixtures/pytorch/pytorch_reference.json

For each case the module named by `torch` is built (batch_first=True for the recurrent ones) and
run on zeros of shape (1, *input). Recorded: every named parameter with its shape, the parameter
count, the shapes of what the module returns (output and h_n, plus c_n for an LSTM), and
torchinfo's `total_mult_adds` for that input (torchinfo's own MAC convention, quoted in
docs/compute.md). The tests read the JSON and never need PyTorch.

How to run (from the repository root), in a throwaway environment:

    python3 -m venv /tmp/torchenv
    /tmp/torchenv/bin/pip install torch torchinfo numpy pyyaml    # e.g. the torch 2.13.0 CPU wheel
    /tmp/torchenv/bin/python scripts/record_pytorch_reference.py

Options: --cases PATH, --out PATH, --only ID [ID ...] (print those cases instead of writing).
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torchinfo  # noqa: E402

from pytorch_spec import tensors_of  # noqa: E402
from recorder_cases import parse_arguments  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CASES = os.path.join(ROOT, "tests", "fixtures", "pytorch", "cases.yaml")
DEFAULT_OUT = os.path.join(ROOT, "tests", "fixtures", "pytorch", "pytorch_reference.json")
RECURRENT = ("LSTM", "GRU", "RNN")


def build(spec):
    arguments = dict(spec)
    kind = arguments.pop("module")
    if kind in RECURRENT:
        arguments["batch_first"] = True
    return kind, getattr(torch.nn, kind)(**arguments)


def record(case):
    torch.manual_seed(0)
    kind, module = build(case["torch"])
    example = torch.zeros((1, *case["input"]))
    with torch.no_grad():
        returned = module(example)
    statistics = torchinfo.summary(module, input_size=(1, *case["input"]), verbose=0)
    return {
        "keras": case["keras"],
        "input": case["input"],
        "torch": case["torch"],
        "module": repr(module),
        "parameters": [{"name": name, "shape": list(parameter.shape)}
                       for name, parameter in module.named_parameters()],
        "params": sum(parameter.numel() for parameter in module.parameters()),
        "returned_shapes": [list(t.shape) for t in tensors_of(returned)],
        "torchinfo_mult_adds": int(statistics.total_mult_adds),
    }


def main(argv=None):
    options, selected = parse_arguments(__doc__.splitlines()[0], DEFAULT_CASES, DEFAULT_OUT, argv,
                                        required=("id", "keras", "input", "torch"))
    document = {
        "torch_version": torch.__version__,
        "torchinfo_version": getattr(torchinfo, "__version__", "unknown"),
        "cases": {case["id"]: record(case) for case in selected},
    }
    text = json.dumps(document, indent=1, sort_keys=True) + "\n"
    if options.only:
        sys.stdout.write(text)
    else:
        with open(options.out, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"wrote {len(selected)} cases to {os.path.relpath(options.out, ROOT)}")


if __name__ == "__main__":
    main()
