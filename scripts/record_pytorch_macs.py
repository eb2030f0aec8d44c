#!/usr/bin/env python3
"""Record what the PyTorch MAC counters report for recurrent modules: torchinfo, thop, ptflops, DeepSpeed.

Reads  tests/fixtures/pytorch/macs_cases.yaml        ({id, spec, grid?}: one-layer `framework: pytorch` specs)
Writes tests/fixtures/pytorch/macs_reference.json

Per case, on the spec's input (zeros of the full shape, in the module's layout):
- torchinfo  `summary(module, input_data=x).total_mult_adds`; for recurrent modules also with
             `input_size=(T, F)`, the common call without a batch axis (torch then runs the
             module unbatched)
- thop       `profile(module, inputs=(x,))` -> (macs, params), for the bare module and for
             `nn.Sequential(module)` (thop adds parameters of child modules only)
- ptflops    `get_model_complexity_info(module, input_res, as_strings=False, backend=...)` for the
             `pytorch` (module hooks) and `aten` (dispatched ops) backends: with the default
             input constructor (batch 1 prepended to input_res = the non-batch shape) when the
             spec's batch is 1 and the layout is batch first, else with an input_constructor
             returning x
- deepspeed  `get_model_profile(module, args=[x], as_string=False)` -> (flops, macs, params), when
             DeepSpeed is importable
and the value of each tool's formula as MACS.md writes it (`formulas`), so a mismatch shows.

torch, torchinfo, thop and ptflops come from /work/torchenv; DeepSpeed installs without compiling
into a separate venv that also sees torchenv's packages (README.md says how). Run from the
repository root:

    /tmp/dsenv/bin/python scripts/record_pytorch_macs.py          # with DeepSpeed
    /work/torchenv/bin/python scripts/record_pytorch_macs.py      # without: deepspeed = null
"""

import contextlib
import importlib.metadata
import io
import math
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder_cases import parse_arguments  # noqa: E402

import torch  # noqa: E402
from torch import nn  # noqa: E402

import ptflops  # noqa: E402
import thop  # noqa: E402
import torchinfo  # noqa: E402

from pytorch_spec import batch_axis, input_shape, write_reference  # noqa: E402
from record_pytorch_modules import expand_grid  # noqa: E402

try:
    from deepspeed.profiling.flops_profiler import get_model_profile
    import deepspeed
except ImportError:
    deepspeed = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CASES = os.path.join(ROOT, "tests", "fixtures", "pytorch", "macs_cases.yaml")
DEFAULT_OUT = os.path.join(ROOT, "tests", "fixtures", "pytorch", "macs_reference.json")


def installed_version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def quietly(function, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def build(spec):
    entry = dict(spec["layers"][0])
    kind = entry.pop("type")
    entry.pop("name", None)
    x = torch.zeros(input_shape(spec), dtype=torch.int64 if kind == "Embedding" else torch.float32)
    if kind in ("LSTM", "GRU", "RNN"):
        entry.setdefault("input_size", x.shape[-1])
    if kind == "Linear":
        entry.setdefault("in_features", x.shape[-1])
    if kind in ("Conv1d", "Conv2d"):
        entry.setdefault("in_channels", x.shape[1])
    torch.manual_seed(0)
    return getattr(nn, kind)(**entry).eval(), x


# ------------------------------------------------------------------ the tools' formulas (MACS.md)

def recurrent_sizes(module):
    directions = 2 if module.bidirectional else 1
    layer_inputs = [module.input_size] + [directions * module.hidden_size] * (module.num_layers - 1)
    return directions, layer_inputs


def formula_torchinfo(module, output):
    """layer_info.py LayerInfo.calculate_macs: RNN parameters are not named exactly weight/bias,
    so each counts prod(output.shape[:2]) times; other modules: output.shape[0] * params (Conv:
    prod(output.shape[:1] + output.shape[2:]) * params)."""
    params = sum(p.numel() for p in module.parameters())
    if isinstance(module, nn.RNNBase):
        return output.shape[0] * output.shape[1] * params
    if isinstance(module, (nn.Conv1d, nn.Conv2d)):
        return output.shape[0] * math.prod(output.shape[2:]) * params
    return output.shape[0] * params


def formula_thop(module, x):
    """rnn_hooks.py count_lstm / count_gru / count_rnn with _count_*_cell; proj_size ignored."""
    if not isinstance(module, nn.RNNBase):
        return None
    hidden, bias = module.hidden_size, module.bias

    def cell(inputs):
        if isinstance(module, nn.LSTM):
            state = (inputs + hidden) * hidden + hidden + (2 * hidden if bias else 0)
            return 4 * state + 3 * hidden + hidden
        if isinstance(module, nn.GRU):
            state = (hidden + inputs) * hidden + hidden + (2 * hidden if bias else 0)
            return 3 * state + hidden + 3 * hidden
        return hidden * (inputs + hidden) + hidden + (2 * hidden if bias else 0)
    directions, layer_inputs = recurrent_sizes(module)
    per_step = sum(directions * cell(inputs) for inputs in layer_inputs)
    batch, steps = (x.shape[0], x.shape[1]) if module.batch_first else (x.shape[1], x.shape[0])
    return per_step * steps * batch


def elementwise(module):
    hidden = module.hidden_size
    if isinstance(module, nn.LSTM):
        return 4 * hidden + 3 * hidden + 3 * hidden
    if isinstance(module, nn.GRU):
        return hidden + 3 * hidden + 3 * hidden
    return hidden


def forward_layer_weights(module):
    """(weight_ih, weight_hh, biases) numels of each layer's FORWARD direction; weight_hr ignored."""
    for layer in range(module.num_layers):
        ih = getattr(module, f"weight_ih_l{layer}")
        hh = getattr(module, f"weight_hh_l{layer}")
        biases = (getattr(module, f"bias_ih_l{layer}").numel() + getattr(module, f"bias_hh_l{layer}").numel()
                  if module.bias else 0)
        yield ih, hh, biases


def formula_ptflops(module, x):
    """pytorch_ops.py rnn_flops_counter_hook / rnn_flops, then flops_counter's division by the
    batch counter (pytorch_engine.py batch_counter_hook: len(input[0]) = x.shape[0])."""
    if not isinstance(module, nn.RNNBase):
        return None
    total = sum(ih.numel() + hh.numel() + elementwise(module) + biases for ih, hh, biases in forward_layer_weights(module))
    total *= x.shape[0] * x.shape[1] * (2 if module.bidirectional else 1)
    return total // x.shape[0]


def formula_deepspeed(module, x):
    """deepspeed/profiling/flops_profiler/profiler.py _rnn_forward_hook / _rnn_flops (FLOPs:
    2*numel - rows per matrix product); MACs are not counted for RNN modules."""
    if not isinstance(module, nn.RNNBase):
        return None
    total = sum(2 * ih.numel() - ih.shape[0] + 2 * hh.numel() - hh.shape[0] + elementwise(module) + biases
                for ih, hh, biases in forward_layer_weights(module))
    return total * x.shape[0] * x.shape[1] * (2 if module.bidirectional else 1)


# ------------------------------------------------------------------ measuring

def measure(case):
    spec = case["spec"]
    module, x = build(spec)
    with torch.no_grad():
        output = quietly(module, x)
    first = output[0] if isinstance(output, tuple) else output
    recurrent = isinstance(module, nn.RNNBase)
    default_input = spec["batch_size"] == 1 and batch_axis(spec) == 0
    result = {"spec": spec, "module": repr(module), "input_shape": list(x.shape),
              "output_shape": list(first.shape), "params": sum(p.numel() for p in module.parameters())}
    if "grid_of" in case:
        result["grid_of"] = case["grid_of"]

    result["torchinfo"] = {"total_mult_adds": quietly(torchinfo.summary, build(spec)[0], input_data=[x],
                                                      verbose=0).total_mult_adds}
    if recurrent:
        unbatched = quietly(torchinfo.summary, build(spec)[0], input_size=tuple(x.shape[1:]) if batch_axis(spec) == 0
                            else (x.shape[0], x.shape[2]), verbose=0)
        result["torchinfo"]["total_mult_adds_without_batch_axis"] = unbatched.total_mult_adds

    # a fresh module per tool: thop and ptflops attach buffers, hooks and attributes to it
    macs, params = quietly(thop.profile, build(spec)[0], inputs=(x,), verbose=False)
    wrapped_macs, wrapped_params = quietly(thop.profile, nn.Sequential(build(spec)[0]), inputs=(x,), verbose=False)
    result["thop"] = {"macs": int(macs), "params": int(params),
                      "sequential_macs": int(wrapped_macs), "sequential_params": int(wrapped_params)}

    result["ptflops"] = {"input": "default (batch 1 prepended)" if default_input else "input_constructor"}
    for backend in ("pytorch", "aten"):
        options = {} if default_input else {"input_constructor": lambda _res: x}
        macs, params = quietly(ptflops.get_model_complexity_info, build(spec)[0], tuple(x.shape[1:]), as_strings=False,
                               print_per_layer_stat=False, backend=backend, **options)
        result["ptflops"][backend] = {"macs": macs, "params": params}

    if deepspeed is not None:
        flops, macs, params = quietly(get_model_profile, build(spec)[0], args=[x], print_profile=False, as_string=False)
        result["deepspeed"] = {"flops": flops, "macs": macs, "params": params}
    else:
        result["deepspeed"] = None

    formulas = {"torchinfo": formula_torchinfo(module, first), "thop": formula_thop(module, x),
                "ptflops_pytorch": formula_ptflops(module, x), "deepspeed_flops": formula_deepspeed(module, x)}
    measured = {"torchinfo": result["torchinfo"]["total_mult_adds"], "thop": result["thop"]["macs"],
                "ptflops_pytorch": result["ptflops"]["pytorch"]["macs"],
                "deepspeed_flops": result["deepspeed"]["flops"] if result["deepspeed"] else None}
    result["formulas"] = {key: {"value": value, "matches": None if value is None or measured[key] is None
                                else value == measured[key]} for key, value in formulas.items()}
    return result


def main(argv=None):
    args, cases = parse_arguments(__doc__.splitlines()[0], DEFAULT_CASES, DEFAULT_OUT, argv, expand=expand_grid)
    results = {case["id"]: measure(case) for case in cases}
    document = {f"{name}_version": installed_version(name) for name in ("torch", "torchinfo", "thop", "ptflops", "deepspeed")}
    document["cases"] = results
    mismatches = [(case_id, key) for case_id, result in results.items()
                  for key, formula in result["formulas"].items() if formula["matches"] is False]
    write_reference(args, document, ROOT)
    if mismatches:
        print(f"formula mismatches: {mismatches}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
