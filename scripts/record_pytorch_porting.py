#!/usr/bin/env python3
"""Prove the Keras -> PyTorch weight conversion rules on models recorded from REAL Keras, in REAL torch.

Reads  tests/fixtures/pytorch/porting_cases.yaml   ({id, keras, spec, note?, compare?, reverse_time?, merged?})
       tests/fixtures/keras/numerics/<keras>.npz   (Keras's weights, inputs, initial states, outputs)
Writes tests/fixtures/pytorch/porting/<id>.npz, one small file per case, holding
    spec                 the equivalent `framework: pytorch` spec, as JSON text
    keras_spec           the Keras case's lstmcalc spec, as JSON text
    meta                 JSON text: the Keras case id, versions, note, `initial_state` layer,
                         `reverse_time`, the rules applied per layer, and every compared pair
                         {keras, torch, max_abs_diff}
    weights/<key>        the converted PyTorch state_dict, keyed `<layer>.<parameter>`
    inputs/input         Keras's input, cast to the spec's dtype (token ids: int64)
    initial_state/<i>    Keras's initial states converted to torch's h_0 (0) and c_0 (1)
    outputs/<key>        torch's outputs of the last layer (`name`, `name[1]` = h_n, `name[2]` = c_n)
    intermediate/<key>   torch's outputs of every other layer
    keras_outputs/<key>  Keras's recorded outputs, as in the Keras npz

The conversion (function `convert`, rules in PORTING.md) is done here, from the Keras weights
alone; the converted state_dict is loaded with `load_state_dict(strict=True)`, so a missing or
extra parameter fails. The recorder stops with an error if any compared output differs from
Keras's by more than 1e-5: a written file is a proven rule.

Run from the repository root with torch installed (never needed by the tests):

    /work/torchenv/bin/python scripts/record_pytorch_porting.py
    /work/torchenv/bin/python scripts/record_pytorch_porting.py --only bidirectional-lstm-last-and-states
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder_cases import parse_arguments  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from pytorch_spec import SpecRun, parse_input  # noqa: E402
from record_pytorch_numerics import write_npz  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CASES = os.path.join(ROOT, "tests", "fixtures", "pytorch", "porting_cases.yaml")
DEFAULT_OUT = os.path.join(ROOT, "tests", "fixtures", "pytorch", "porting")
KERAS_NUMERICS = os.path.join(ROOT, "tests", "fixtures", "keras", "numerics")
TOLERANCE = 1e-5


def gru_gates_to_torch(matrix, units):
    """Keras GRU gate blocks z, r, h (last axis) -> PyTorch's r, z, n."""
    z, r, h = (matrix[..., i * units:(i + 1) * units] for i in range(3))
    return np.concatenate([r, z, h], axis=-1)


def convert_recurrent(entry, weights, name, keras_layers=None):
    """LSTM / GRU / RNN: layer k of the module from the Keras layer keras_layers[k] (default: the one
    Keras layer of the same name); both directions of a Bidirectional wrapper."""
    directions = [("forward/", ""), ("backward/", "_reverse")] if entry.get("bidirectional") else [("", "")]
    units = entry["hidden_size"]
    converted, rules = {}, []
    for index, keras_name in enumerate(keras_layers or [name]):
        for keras_part, suffix in directions:
            tag = f"l{index}{suffix}"
            kernel = weights[f"{keras_name}/{keras_part}kernel"]
            recurrent = weights[f"{keras_name}/{keras_part}recurrent_kernel"]
            bias = weights.get(f"{keras_name}/{keras_part}bias")
            if entry["type"] == "GRU":
                kernel, recurrent = gru_gates_to_torch(kernel, units), gru_gates_to_torch(recurrent, units)
            converted[f"weight_ih_{tag}"] = kernel.T
            converted[f"weight_hh_{tag}"] = recurrent.T
            if bias is None:
                continue
            if entry["type"] == "GRU":
                converted[f"bias_ih_{tag}"] = gru_gates_to_torch(bias[0], units)
                converted[f"bias_hh_{tag}"] = gru_gates_to_torch(bias[1], units)
            else:
                converted[f"bias_ih_{tag}"] = bias
                converted[f"bias_hh_{tag}"] = np.zeros_like(bias)
    if keras_layers:
        rules.append(f"stacked Keras layers {', '.join(keras_layers)} -> *_l0 … *_l{len(keras_layers) - 1} "
                     "(num_layers; layer k reads layer k-1's output)")
    if entry["type"] == "GRU":
        rules.append("weight_ih = kernel.T, weight_hh = recurrent_kernel.T with gate blocks z,r,h -> r,z,n; "
                     "bias_ih = bias[0], bias_hh = bias[1] reordered the same way")
    else:
        rules.append("weight_ih = kernel.T, weight_hh = recurrent_kernel.T (gate order kept"
                     + (": i,f,c,o = i,f,g,o" if entry["type"] == "LSTM" else "") + "); bias_ih = bias, bias_hh = 0")
    if entry.get("bidirectional"):
        rules.append("Bidirectional forward/ -> *_l0, backward/ -> *_l0_reverse")
    return converted, rules


def convert(entry, weights, name, keras_layers=None):
    """The PyTorch parameters (module-local names) of one spec layer, from Keras weights keyed
    `<layer>/<weight>` (Bidirectional: `<layer>/forward/<weight>`, `<layer>/backward/<weight>`);
    `keras_layers`: the stacked Keras layers a recurrent module's num_layers fold (case key `merged`)."""
    kind = entry["type"]
    if kind in ("LSTM", "GRU", "RNN"):
        return convert_recurrent(entry, weights, name, keras_layers)
    if kind == "Linear":
        converted = {"weight": weights[f"{name}/kernel"].T}
        if f"{name}/bias" in weights:
            converted["bias"] = weights[f"{name}/bias"]
        return converted, ["weight = kernel.T, bias = bias"]
    if kind == "Embedding":
        return {"weight": weights[f"{name}/embeddings"]}, ["weight = embeddings"]
    if kind == "LayerNorm":
        return {"weight": weights[f"{name}/gamma"], "bias": weights[f"{name}/beta"]}, \
            ["weight = gamma, bias = beta; eps = Keras epsilon"]
    if kind == "BatchNorm1d":
        converted = {}
        if entry.get("affine", True):
            gamma = weights.get(f"{name}/gamma")
            converted["weight"] = gamma if gamma is not None else np.ones_like(weights[f"{name}/moving_mean"])
            if entry.get("bias", True):
                converted["bias"] = weights[f"{name}/beta"]
        converted.update(running_mean=weights[f"{name}/moving_mean"], running_var=weights[f"{name}/moving_variance"],
                         num_batches_tracked=np.array(0, dtype=np.int64))
        return converted, ["weight = gamma (ones without scale), bias = beta, running_mean = moving_mean, "
                           "running_var = moving_variance, num_batches_tracked = 0; eps = epsilon, "
                           "momentum = 1 - Keras momentum; channels (dim 1) = Keras's axis"]
    if kind == "Conv1d":
        converted = {"weight": weights[f"{name}/kernel"].transpose(2, 1, 0)}
        if f"{name}/bias" in weights:
            converted["bias"] = weights[f"{name}/bias"]
        return converted, ["weight = kernel.transpose(2, 1, 0): (kernel, in/groups, out) -> (out, in/groups, kernel)"]
    if kind == "Conv2d":
        converted = {"weight": weights[f"{name}/kernel"].transpose(3, 2, 0, 1)}
        if f"{name}/bias" in weights:
            converted["bias"] = weights[f"{name}/bias"]
        return converted, ["weight = kernel.transpose(3, 2, 0, 1): (kH, kW, in/groups, out) -> (out, in/groups, kH, kW)"]
    return {}, []


def torch_states(entry, keras_states):
    """Keras's initial_state list -> torch's (h_0, c_0) or h_0: per direction [h, c] (LSTM) or
    [h] (GRU/RNN), stacked on a new first axis (D*num_layers)."""
    per_direction = 2 if entry["type"] == "LSTM" else 1
    directions = [keras_states[i:i + per_direction] for i in range(0, len(keras_states), per_direction)]
    stacked = [torch.from_numpy(np.stack([direction[k] for direction in directions])) for k in range(per_direction)]
    return stacked


def pick(arrays, key):
    name, _, row = key.partition("@")
    value = arrays[name]
    return value[int(row)] if row else value


def run_case(case):
    with np.load(os.path.join(KERAS_NUMERICS, case["keras"] + ".npz")) as data:
        keras = {key: data[key] for key in data.files}
    keras_weights = {key[len("weights/"):]: value for key, value in keras.items() if key.startswith("weights/")}
    keras_inputs = [value for key, value in keras.items() if key.startswith("inputs/")]
    keras_states = [keras[f"initial_state/{i}"] for i in range(sum(k.startswith("initial_state/") for k in keras))]
    keras_outputs = {key[len("outputs/"):]: value for key, value in keras.items() if key.startswith("outputs/")}
    keras_meta = json.loads(str(keras["meta"]))
    spec = case["spec"]
    _, dtype = parse_input(spec)
    x = torch.from_numpy(keras_inputs[0].astype(dtype))

    converted, rules = {}, {}
    merged = case.get("merged", {})
    for entry in spec["layers"]:
        parameters, applied = convert(entry, keras_weights, entry["name"], merged.get(entry["name"]))
        converted.update({f"{entry['name']}.{key}": np.ascontiguousarray(value) for key, value in parameters.items()})
        if applied:
            rules[entry["name"]] = applied
    sources = [entry["name"] for entry in spec["layers"]] + [name for names in merged.values() for name in names]
    used = {key for key in keras_weights if any(key.startswith(name + "/") for name in sources)}
    if used != set(keras_weights):
        raise SystemExit(f"{case['id']}: Keras weights without a PyTorch layer: {sorted(set(keras_weights) - used)}")

    def load(module, name):
        own = {key[len(name) + 1:]: torch.from_numpy(value) for key, value in converted.items()
               if key.startswith(name + ".")}
        module.load_state_dict(own, strict=True)

    initial_state = None
    if keras_meta.get("initial_state"):
        layer = keras_meta["initial_state"]
        entry = next(entry for entry in spec["layers"] if entry["name"] == layer)
        initial_state = {"layer": layer, "values": torch_states(entry, keras_states)}
    run = SpecRun(spec, x, initial_state=initial_state, initialise=load, reverse_time=case.get("reverse_time", False))
    if not run.ok:
        raise SystemExit(f"{case['id']}: torch refused the spec: {run.error}")
    torch_outputs = {}
    for layer in run.layers:
        torch_outputs.update(run.output_keys(layer["name"]))

    compare = case.get("compare") or {next(iter(keras_outputs)): run.layers[-1]["name"]}
    if len(keras_outputs) != len(compare):
        raise SystemExit(f"{case['id']}: compare lists {sorted(compare)}, Keras has {sorted(keras_outputs)}")
    pairs = []
    for keras_key, torch_key in compare.items():
        ours, theirs = pick(torch_outputs, torch_key), keras_outputs[keras_key]
        if ours.shape != theirs.shape:
            raise SystemExit(f"{case['id']}: {torch_key} {ours.shape} vs Keras {keras_key} {theirs.shape}")
        difference = float(np.max(np.abs(ours.astype(np.float64) - theirs)))
        if not difference <= TOLERANCE:
            raise SystemExit(f"{case['id']}: torch {torch_key} differs from Keras {keras_key} by {difference:.3g}")
        pairs.append({"keras": keras_key, "torch": torch_key, "max_abs_diff": difference})
    return run, keras, keras_outputs, rules, pairs


def literal_last_row_difference(run, case):
    """For a LastStep after a bidirectional module: how far the literal `output[:, -1, :]` is from
    the correct last outputs (it is NOT what Keras returns)."""
    for index, layer in enumerate(run.layers[1:], start=1):
        before = case["spec"]["layers"][index - 1]
        if layer["type"] == "LastStep" and before.get("bidirectional"):
            sequence = run.outputs[before["name"]][0]
            literal = sequence[:, -1, :] if before.get("batch_first") else sequence[-1]
            return float((literal - run.outputs[layer["name"]][0]).abs().max())
    return None


def arrays_of(case, run, keras, keras_outputs, rules, pairs):
    keras_meta = json.loads(str(keras["meta"]))
    meta = {"keras_case": case["keras"], "keras_version": keras_meta["keras_version"],
            "tensorflow_version": keras_meta["tensorflow_version"], "torch_version": torch.__version__,
            "note": case.get("note"), "initial_state": keras_meta.get("initial_state"),
            "reverse_time": case.get("reverse_time", False), "rules": rules, "compared": pairs,
            "tolerance": TOLERANCE, "literal_last_row_max_abs_diff": literal_last_row_difference(run, case)}
    arrays = {"spec": np.array(json.dumps(case["spec"], sort_keys=True)),
              "keras_spec": keras["spec"],
              "meta": np.array(json.dumps(meta, sort_keys=True)), **run.arrays()}
    for key, value in keras_outputs.items():
        arrays[f"keras_outputs/{key}"] = value
    return arrays


def main(argv=None):
    args, cases = parse_arguments(__doc__.splitlines()[0], DEFAULT_CASES, DEFAULT_OUT, argv,
                                  required=("id", "keras", "spec"))
    os.makedirs(args.out, exist_ok=True)
    for case in cases:
        run, keras, keras_outputs, rules, pairs = run_case(case)
        write_npz(os.path.join(args.out, case["id"] + ".npz"), arrays_of(case, run, keras, keras_outputs, rules, pairs))
        worst = max(pair["max_abs_diff"] for pair in pairs)
        print(f"{case['id']:40} <- {case['keras']:30} max |torch - keras| = {worst:.2e}", file=sys.stderr)
    print(f"recorded {len(cases)} cases with torch {torch.__version__} -> {os.path.relpath(args.out, ROOT)}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
