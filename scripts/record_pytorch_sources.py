#!/usr/bin/env python3
"""Record what REAL PyTorch does with the nn.Module source files that lstmcalc's reader parses.

Reads  tests/fixtures/pytorch/source_cases.yaml   ({id, file, class, input, batch_size, reader, kwargs?, construct?})
       tests/fixtures/pytorch/source/<file>        (nn.Module classes written as people write them)
Writes tests/fixtures/pytorch/source_reference.json

lstmcalc parses these files with `ast` and never imports them; this recorder imports each one
(as a module, so its `if __name__ == "__main__":` block does not run), constructs the class with
`kwargs` (or evaluates the `construct` expression in the file's namespace, e.g. for a config
object), puts it in eval mode and runs one forward pass under no_grad on a seeded random input of
`batch_size` samples of `input` (the non-batch axes; token ids: {shape, dtype: int64}, drawn from
[1, num_embeddings of the first Embedding)). The batch axis goes first, or second when the first
recurrent module in named_modules() order has batch_first=False (issue 11's rule).

A forward hook (with kwargs) on every module of `named_modules()`, the root included, records
each call in execution order: the shapes of every tensor it received (positional and keyword,
tuples flattened) and of every tensor it returned (output, h_n, c_n). Recorded per case:
Python warnings (construct / forward), `modules` in named_modules() order (path, class, own and total parameter counts, calls),
`calls` (execution order), `named_parameters` (name, shape, requires_grad), totals, the final
output shapes and dtype, and `reader` ("read", or "refuse: <why>") copied from the case: what
lstmcalc's reader is expected to do.

With --round-trip, the sources are the code `lstmcalc convert --to pytorch` writes for every spec
in specs/ and every readable source above (issue 11's round trip): each is saved under
tests/fixtures/pytorch/round_trip/ and recorded the same way, its class and input taken from the
code's own header ("Read it back with: lstmcalc summary <this file> --input ...", or for a graph
"forward() takes: a --input ...; b --input ...", each argument's tensor in order), into
tests/fixtures/pytorch/round_trip.json (per source: `code`, or `convert_error` when lstmcalc refuses).

Run from the repository root with torch installed (never needed by the tests):

    /work/torchenv/bin/python scripts/record_pytorch_sources.py
    /work/torchenv/bin/python scripts/record_pytorch_sources.py --only bigru-classifier
    /work/torchenv/bin/python scripts/record_pytorch_sources.py --round-trip --lstmcalc .venv/bin/lstmcalc
"""

import importlib.util
import os
import re
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recorder_cases import load_cases, parse_arguments, pin_hash_seed, source_options  # noqa: E402

pin_hash_seed()

import torch  # noqa: E402
from torch import nn  # noqa: E402

from pytorch_spec import json_text, parameter_records, seeded_rng, warning_records, write_reference  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "pytorch")
DEFAULT_CASES = os.path.join(FIXTURES, "source_cases.yaml")
DEFAULT_OUT = os.path.join(FIXTURES, "source_reference.json")
ROUND_TRIP = os.path.join(FIXTURES, "round_trip")
UNKNOWN_LENGTH = 7


def load_source(path):
    name = "lstmcalc_source_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module      # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


def construct(case, namespace):
    if "construct" in case:
        # a developer-run recorder evaluating an expression from the repository's own case file
        return eval(case["construct"], vars(namespace))  # noqa: S307
    return getattr(namespace, case["class"])(**case.get("kwargs", {}))


def first_recurrent(model):
    return next((module for module in model.modules() if isinstance(module, nn.RNNBase)), None)


def make_inputs(case, model, rng):
    """The tensors forward() takes: one (``input``), or one per argument (``inputs``, a graph)."""
    if "inputs" not in case:
        x, axis = make_input(case, model, rng)
        return [x], axis
    tensors = []
    for declared in case["inputs"]:
        x, axis = make_input({**case, "input": declared}, model, rng)
        tensors.append(x)
    return tensors, axis


def make_input(case, model, rng):
    declared = case["input"]
    shape, dtype = (declared["shape"], declared.get("dtype", "float32")) if isinstance(declared, dict) \
        else (declared, "float32")
    recurrent = first_recurrent(model)
    axis = 1 if recurrent is not None and not recurrent.batch_first else 0
    # An unknown length (None, a graph's variable-length sequence) runs as 7 steps, as in lstmcalc verify.
    full = [UNKNOWN_LENGTH if dim is None else dim for dim in list(shape[:axis]) + [case["batch_size"]] +
            list(shape[axis:])]
    if dtype.startswith("int"):
        embedding = next(module for module in model.modules() if isinstance(module, nn.Embedding))
        return torch.from_numpy(rng.integers(1, embedding.num_embeddings, size=full).astype(dtype)), axis
    return torch.from_numpy(rng.standard_normal(size=full).astype(dtype)), axis


def tensors_in(value):
    """Tensors inside nested tuples/lists (non-tensors such as None are skipped)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [tensor for item in value for tensor in tensors_in(item)]
    return []


def record(case, directory=os.path.join(FIXTURES, "source")):
    namespace = load_source(os.path.join(directory, case["file"]))
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = construct(case, namespace).eval()
    recorded_warnings = warning_records(caught, "construct", None)
    rng = seeded_rng(case["id"])
    given, axis = make_inputs(case, model, rng)
    calls, per_module = [], {}

    def hook_for(path):
        def hook(module, args, kwargs, output):
            call = {"path": path, "class": type(module).__name__,
                    "input_shapes": [list(t.shape) for t in tensors_in(list(args) + list(kwargs.values()))],
                    "output_shapes": [list(t.shape) for t in tensors_in(output)]}
            calls.append(call)
            per_module.setdefault(path, []).append({key: call[key] for key in ("input_shapes", "output_shapes")})
        return hook

    handles = [module.register_forward_hook(hook_for(path), with_kwargs=True)
               for path, module in model.named_modules()]
    with warnings.catch_warnings(record=True) as caught, torch.no_grad():
        warnings.simplefilter("always")
        result = model(*given)
    recorded_warnings += warning_records(caught, "forward", None)
    for handle in handles:
        handle.remove()
    returned = tensors_in(result)
    modules = []
    for path, module in model.named_modules():
        entry = {"path": path, "class": type(module).__name__,
                 "params_own": sum(p.numel() for p in module.parameters(recurse=False)),
                 "params_total": sum(p.numel() for p in module.parameters()),
                 "calls": per_module.get(path, [])}
        if not list(module.children()):
            entry["repr"] = repr(module)
        modules.append(entry)
    return {"file": case["file"], "class": case["class"], "reader": case["reader"], "note": case.get("note"),
            "kwargs": case.get("kwargs", {}), "construct": case.get("construct"),
            "input": {"shape": list(given[0].shape), "dtype": str(given[0].dtype), "batch_axis": axis,
                      "batch_size": case["batch_size"], "declared": case.get("input", case.get("inputs"))},
            "inputs": [{"shape": list(x.shape), "dtype": str(x.dtype)} for x in given],
            "modules": modules, "calls": calls, "named_parameters": parameter_records(model),
            "params": sum(p.numel() for p in model.parameters()),
            "trainable_params": sum(p.numel() for p in model.parameters() if p.requires_grad),
            "output_shapes": [list(t.shape) for t in returned], "output_dtypes": [str(t.dtype) for t in returned],
            "warnings": recorded_warnings}


# Saved Keras graphs (tests/fixtures/keras_files) whose PyTorch code is run too: merges, and an
# encoder's states passed as a decoder's initial state.
KERAS_GRAPHS = ("merges.keras", "seq2seq.keras")


def round_trip_sources():
    """(name, path, lstmcalc options): every spec in specs/, the Keras graphs above, then every
    readable source case."""
    specs = sorted(name for name in os.listdir(os.path.join(ROOT, "specs")) if name.endswith(".yaml"))
    sources = [(name, os.path.join(ROOT, "specs", name), []) for name in specs]
    sources += [(f"keras_files/{name}", os.path.join(ROOT, "tests", "fixtures", "keras_files", name), [])
                for name in KERAS_GRAPHS]
    for case in load_cases(DEFAULT_CASES, ("id", "file", "class", "input", "batch_size", "reader")):
        if case["reader"] == "read":
            sources.append((f"source/{case['id']}", os.path.join(FIXTURES, "source", case["file"]),
                            source_options(case)))
    return sources


# The header of the code: "Read it back with: lstmcalc summary <this file> --input 30,8 --batch-size 2",
# for a forward() taking several inputs `--input "30,8;5"` (the dtype is the first input's).
READ_BACK = re.compile(r'^Read it back with: .*?--input "?([^"\s]+)"?(?: --dtype (\S+))?(?: --batch-size (\d+))?$',
                       re.M)


def record_round_trip(lstmcalc):
    os.makedirs(ROUND_TRIP, exist_ok=True)
    results = {}
    for name, path, options in round_trip_sources():
        # Relative to the repository root, so that no message records where it was checked out.
        converted = subprocess.run([lstmcalc, "convert", os.path.relpath(path, ROOT), "--to", "pytorch"] + options,
                                   capture_output=True, text=True, cwd=ROOT)
        if converted.returncode != 0:
            results[name] = {"code": None, "convert_error": converted.stderr.strip()}
            print("round trip", name, "not converted", file=sys.stderr)
            continue
        code = converted.stdout
        file = re.sub(r"\W", "_", os.path.splitext(name)[0].replace("source/", "source_")) + ".py"
        with open(os.path.join(ROUND_TRIP, file), "w", encoding="utf-8") as handle:
            handle.write(code)
        found = READ_BACK.search(code)
        declared = []
        for position, text in enumerate(found.group(1).split(";")):
            shape = [None if dim == "None" else int(dim) for dim in text.split(",")]
            declared.append({"shape": shape, "dtype": found.group(2)} if found.group(2) and position == 0 else shape)
        case = {"id": name, "file": file, "class": re.search(r"^class (\w+)\(nn\.Module\)", code, re.M).group(1),
                "input": declared[0], "batch_size": int(found.group(3)), "reader": "read"}
        if len(declared) > 1:
            case["inputs"] = declared  # forward(a, b, ...) of a graph
        try:
            entry = record(case, ROUND_TRIP)
        except Exception as exc:  # noqa: BLE001  (recorded: what torch makes of the code)
            entry = {"error": {"type": type(exc).__name__, "message": str(exc)[:2000]}}
        entry["code"] = code
        results[name] = entry
        print("round trip", name, entry.get("params", entry.get("error")), file=sys.stderr)
    document = {"torch_version": torch.__version__, "cases": results}
    with open(os.path.join(FIXTURES, "round_trip.json"), "w", encoding="utf-8") as handle:
        handle.write(json_text(document))


def main(argv=None):
    if argv is None and "--round-trip" in sys.argv:
        lstmcalc = sys.argv[sys.argv.index("--lstmcalc") + 1] if "--lstmcalc" in sys.argv else \
            os.path.join(ROOT, ".venv", "bin", "lstmcalc")
        record_round_trip(os.path.abspath(lstmcalc))
        return 0
    args, cases = parse_arguments(__doc__.splitlines()[0], DEFAULT_CASES, DEFAULT_OUT, argv,
                                  required=("id", "file", "class", "input", "batch_size", "reader"))
    document = {"torch_version": torch.__version__, "cases": {case["id"]: record(case) for case in cases}}
    write_reference(args, document, ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
