"""Build and run an lstmcalc `framework: pytorch` spec in REAL torch.

The machinery the PyTorch recorders share (record_pytorch_modules.py, _numerics.py, _porting.py,
and the helpers _macs.py, _sources.py and _reference.py use). A spec is issue 10's format:

    framework: pytorch
    batch_size: 4                       # the concrete batch
    input: [7, 5]                       # the non-batch axes; token ids: {shape: [7], dtype: int64}
    layers:                             # torch.nn module names and keyword arguments
      - {type: LSTM, name: lstm, hidden_size: 10, num_layers: 2, batch_first: true}
      - {type: LastStep}                # lstmcalc spec step (see STEPS), not a torch module
      - {type: Linear, out_features: 2}

Layout: the batch axis is inserted first when the first recurrent module (LSTM/GRU/RNN) has
batch_first=True or there is none, and second when it has batch_first=False (torch's default).

Each layer is constructed and then run on what the layer before returned, in order, so that a
size torch needs at construction but the spec may leave out is taken from the running tensor (the
recorder's inference, recorded as `inferred`): `input_size` (LSTM/GRU/RNN) and `in_features`
(Linear) = the last axis, `in_channels` (Conv1d, Conv2d) = the channel axis (-2, -3). Everything else comes
from the spec as written. A recurrent module passes `output` (element 0 of its result) on.
Modules run in eval mode (inter-layer dropout and Dropout off).
"""

import hashlib
import json
import os
import re
import sys
import warnings

import numpy as np
import torch
from torch import nn

RECURRENT = ("LSTM", "GRU", "RNN")

# TORCH_WARN_ONCE warnings (from C++) would otherwise appear only for the first case of a run.
torch.set_warn_always(True)

_TRIGGERED = re.compile(r" \(Triggered internally at [^)]*\.\)")


class LastStep(nn.Module):
    """lstmcalc step `{type: LastStep}`: the last step of a sequence, per direction.

    After a unidirectional module (or any non-recurrent layer): `x[:, -1]` (batch first) /
    `x[-1]` (time major), i.e. `out[:, -1, :]`. After a bidirectional module: the forward half of
    the last step joined with the backward half of the FIRST step, which is what each direction
    saw last: equal to `torch.cat((h_n[-2], h_n[-1]), dim=1)` (checked by the recorder), and NOT
    `out[:, -1, :]`. This is the last output of a Keras RNN without return_sequences."""

    def __init__(self, time_axis, directions=1, half=None):
        super().__init__()
        self.time_axis, self.directions, self.half = time_axis, directions, half

    def forward(self, x):
        last = x.select(self.time_axis, -1)
        if self.directions == 1:
            return last
        first = x.select(self.time_axis, 0)
        return torch.cat((last[..., :self.half], first[..., self.half:]), dim=-1)

    def extra_repr(self):
        return f"time_axis={self.time_axis}, directions={self.directions}"


class Permute(nn.Module):
    """lstmcalc step `{type: Permute, dims: [0, 2, 1]}`: `x.permute(*dims)`, dims counting the
    batch axis, as written in forward() (e.g. around a Conv1d, which wants (batch, channels, length))."""

    def __init__(self, dims):
        super().__init__()
        self.dims = list(dims)

    def forward(self, x):
        return x.permute(*self.dims)

    def extra_repr(self):
        return f"dims={self.dims}"


class Transpose(nn.Module):
    """lstmcalc step `{type: Transpose, dim0: 1, dim1: 2}`: `x.transpose(dim0, dim1)`, the dims
    counting the batch axis (what forward() writes around a Conv1d as often as permute)."""

    def __init__(self, dim0, dim1):
        super().__init__()
        self.dim0, self.dim1 = dim0, dim1

    def forward(self, x):
        return x.transpose(self.dim0, self.dim1)

    def extra_repr(self):
        return f"dim0={self.dim0}, dim1={self.dim1}"


class Select(nn.Module):
    """lstmcalc step `{type: Select, dim: 1, index: -1}`: `x.select(dim, index)`, what `out[:, -1, :]`
    does literally (after a bidirectional module it is not LastStep)."""

    def __init__(self, dim, index):
        super().__init__()
        self.dim, self.index = dim, index

    def forward(self, x):
        return x.select(self.dim, self.index)

    def extra_repr(self):
        return f"dim={self.dim}, index={self.index}"


class Narrow(nn.Module):
    """lstmcalc step `{type: Narrow, dim: -1, start: 2, length: 3}`: `x.narrow(dim, start, length)`."""

    def __init__(self, dim, start, length):
        super().__init__()
        self.dim, self.start, self.length = dim, start, length

    def forward(self, x):
        return x.narrow(self.dim, self.start, self.length)

    def extra_repr(self):
        return f"dim={self.dim}, start={self.start}, length={self.length}"


class Unsqueeze(nn.Module):
    """lstmcalc step `{type: Unsqueeze, dim: 0}`: `x.unsqueeze(dim)`."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return x.unsqueeze(self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Reduce(nn.Module):
    """lstmcalc steps `{type: Mean, dim: 1}` and `{type: Amax, dim: [1, 2], keepdim: true}`:
    `x.mean(dim, keepdim)` / `x.amax(dim, keepdim)` (a list `dim` is passed as a tuple)."""

    def __init__(self, how, dim, keepdim=False):
        super().__init__()
        self.how, self.dim, self.keepdim = how, tuple(dim) if isinstance(dim, list) else dim, keepdim

    def forward(self, x):
        return getattr(x, self.how)(dim=self.dim, keepdim=self.keepdim)

    def extra_repr(self):
        return f"{self.how}, dim={self.dim}, keepdim={self.keepdim}"


STEPS = ("LastStep", "Permute", "Transpose", "Select", "Narrow", "Unsqueeze", "Mean", "Amax")

def json_text(document, width=110):
    """Sorted JSON, indented by one space, with every list or mapping that fits in `width`
    columns on one line (so shapes and parameter records stay readable and the files small)."""
    def render(value, indent):
        compact = json.dumps(value, sort_keys=True, ensure_ascii=False)
        if not isinstance(value, (dict, list)) or not value or indent + len(compact) <= width:
            return compact
        pad = " " * (indent + 1)
        if isinstance(value, dict):
            items = [f"{pad}{json.dumps(key, ensure_ascii=False)}: {render(value[key], indent + 1)}"
                     for key in sorted(value)]
            return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
        return "[\n" + ",\n".join(pad + render(item, indent + 1) for item in value) + "\n" + " " * indent + "]"
    return render(document, 0) + "\n"


def write_reference(args, document, root):
    """A JSON recorder's output: printed with --only, else written to --out."""
    text = json_text(document)
    if args.only:
        sys.stdout.write(text)
        return
    with open(args.out, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"wrote {len(document['cases'])} cases to {os.path.relpath(args.out, root)}", file=sys.stderr)


def parse_input(spec):
    """(shape without batch, dtype name) of the spec's `input`."""
    declared = spec["input"]
    if isinstance(declared, dict):
        return list(declared["shape"]), declared.get("dtype", "float32")
    return list(declared), "float32"


def batch_axis(spec):
    for entry in spec["layers"]:
        if entry["type"] in RECURRENT:
            return 0 if entry.get("batch_first", False) else 1
    return 0


def input_shape(spec, unbatched=False):
    """The full shape of the tensor fed to the spec's first layer."""
    shape, _ = parse_input(spec)
    if unbatched:
        return shape
    axis = min(batch_axis(spec), len(shape))
    return shape[:axis] + [spec["batch_size"]] + shape[axis:]


def make_input(spec, rng, unbatched=False, shape=None, value_range=None):
    """A seeded random input tensor: floats uniform in [-1, 1), token ids uniform in
    [0, num_embeddings of the first Embedding) unless `value_range` = [low, high) says otherwise."""
    _, dtype = parse_input(spec)
    shape = list(shape) if shape is not None else input_shape(spec, unbatched)
    if dtype.startswith("int"):
        embeddings = [entry for entry in spec["layers"] if entry["type"] == "Embedding"]
        low, high = value_range or (0, embeddings[0]["num_embeddings"] if embeddings else 10)
        return torch.from_numpy(rng.integers(low, high, size=shape).astype(dtype))
    low, high = value_range or (-1.0, 1.0)
    return torch.from_numpy(rng.uniform(low, high, size=shape).astype(dtype))


def seeded_rng(case_id):
    """A NumPy generator seeded from the case id, so each case is reproducible on its own."""
    return np.random.default_rng(int(hashlib.sha256(case_id.encode()).hexdigest()[:8], 16))


def randomise(module, rng, low=-0.7, high=0.7):
    """Every parameter (biases included) to seeded uniform values, so layouts and gate orders matter;
    then the floating buffers (BatchNorm1d's running_mean, and running_var in [0.5, 1.5): a variance)."""
    with torch.no_grad():
        for _, parameter in module.named_parameters():
            parameter.copy_(torch.from_numpy(rng.uniform(low, high, size=tuple(parameter.shape))
                                             .astype(np.float32)).to(parameter.dtype))
        for name, buffer in module.named_buffers():
            if buffer.is_floating_point():
                low_, high_ = (0.5, 1.5) if name.endswith("running_var") else (low, high)
                buffer.copy_(torch.from_numpy(rng.uniform(low_, high_, size=tuple(buffer.shape))
                                              .astype(np.float32)).to(buffer.dtype))


def tensors_of(result):
    """The tensors a module returned, flattened in order: (output, h_n[, c_n]) for a recurrent module."""
    if isinstance(result, torch.Tensor):
        return [result]
    found = []
    for item in result:
        found.extend(tensors_of(item))
    return found


def error_record(stage, index, name, exc):
    kind = type(exc)
    return {"stage": stage, "layer_index": index, "layer_name": name,
            "type": kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}",
            "message": str(exc)}


def warning_records(caught, stage, index):
    return [{"stage": stage, "layer_index": index, "category": w.category.__name__,
             "message": str(w.message), "core_message": _TRIGGERED.sub("", str(w.message))}
            for w in caught]


def parameter_records(module):
    return [{"name": name, "shape": list(parameter.shape), "requires_grad": parameter.requires_grad,
             "numel": parameter.numel()} for name, parameter in module.named_parameters()]


def state_shapes(module, x):
    """The shapes torch expects for (h_0, c_0) of a recurrent module given input x."""
    directions = 2 if module.bidirectional else 1
    layers = directions * module.num_layers
    h_out = module.proj_size if getattr(module, "proj_size", 0) else module.hidden_size
    batch = [] if x.dim() == 2 else [x.shape[0] if module.batch_first else x.shape[1]]
    shapes = [[layers] + batch + [h_out]]
    if isinstance(module, nn.LSTM):
        shapes.append([layers] + batch + [module.hidden_size])
    return shapes


class SpecRun:
    """One spec constructed and run in torch, layer after layer.

    Attributes: `model` (an nn.Module whose children carry the layer names, so its state_dict keys
    are `<name>.<parameter>`), `layers` (one record per layer that was constructed), `outputs`
    (per layer name: the tensors it returned), `initial_state` (the tensors given, if any),
    `error` (None or the first exception), `warnings`."""

    def __init__(self, spec, x, initial_state=None, initialise=None, rng=None, reverse_time=False):
        self.spec, self.x = spec, x
        self.model = nn.Module()
        self.layers, self.outputs, self.warnings = [], {}, []
        self.initial_state, self.error = None, None
        self.weights_before = {}    # the state_dict as constructed (and initialised), before any forward
        self._run(initial_state or {}, initialise, rng, reverse_time)

    @staticmethod
    def layer_name(entry, index):
        return entry.get("name", str(index))

    def _construct(self, entry, index, tensor, previous):
        arguments = {key: value for key, value in entry.items() if key not in ("type", "name")}
        kind = entry["type"]
        inferred = []
        inference = {"LSTM": "input_size", "GRU": "input_size", "RNN": "input_size",
                     "Linear": "in_features", "Conv1d": "in_channels", "Conv2d": "in_channels"}
        if kind in inference and inference[kind] not in arguments:
            axis = {"Conv1d": -2, "Conv2d": -3}.get(kind, -1)
            arguments[inference[kind]] = int(tensor.shape[axis])
            inferred.append(inference[kind])
        if kind == "LastStep":
            if isinstance(previous, nn.RNNBase):
                time_axis = 0 if (tensor.dim() == 2 or not previous.batch_first) else 1
                directions = 2 if previous.bidirectional else 1
                return LastStep(time_axis, directions, tensor.shape[-1] // directions), arguments, inferred
            time_axis = 0 if tensor.dim() == 2 else (1 if batch_axis(self.spec) == 0 else 0)
            return LastStep(time_axis), arguments, inferred
        if kind == "Permute":
            return Permute(arguments["dims"]), arguments, inferred
        if kind == "Transpose":
            return Transpose(arguments["dim0"], arguments["dim1"]), arguments, inferred
        if kind == "Select":
            return Select(arguments["dim"], arguments["index"]), arguments, inferred
        if kind == "Narrow":
            return Narrow(arguments["dim"], arguments["start"], arguments["length"]), arguments, inferred
        if kind == "Unsqueeze":
            return Unsqueeze(arguments["dim"]), arguments, inferred
        if kind in ("Mean", "Amax"):
            return Reduce(kind.lower(), arguments["dim"], arguments.get("keepdim", False)), arguments, inferred
        passed = dict(arguments)
        if isinstance(passed.get("dtype"), str):   # `dtype: float64` in a spec is torch.float64
            passed["dtype"] = getattr(torch, passed["dtype"].replace("torch.", ""))
        return getattr(nn, kind)(**passed), arguments, inferred

    def _states(self, request, module, tensor, rng):
        if "values" in request:    # given tensors: (h_0, c_0) for an LSTM, h_0 otherwise
            values = list(request["values"])
            return tuple(values) if isinstance(module, nn.LSTM) else values[0]
        if "shape" in request:     # a bare tensor where torch expects (h_0, c_0) or h_0
            return torch.from_numpy(rng.uniform(-1, 1, size=request["shape"]).astype(np.float32))
        shapes = request.get("shapes") or state_shapes(module, tensor)
        states = [torch.from_numpy(rng.uniform(-1, 1, size=shape).astype(np.float32)) for shape in shapes]
        # `shapes` written out: always a tuple (to record what torch does with one); by default
        # what torch expects: (h_0, c_0) for an LSTM, the tensor h_0 for a GRU or RNN.
        return tuple(states) if "shapes" in request or isinstance(module, nn.LSTM) else states[0]

    def _run(self, initial_state, initialise, rng, reverse_time):
        tensor, previous = self.x, None
        for index, entry in enumerate(self.spec["layers"]):
            name = self.layer_name(entry, index)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    module, arguments, inferred = self._construct(entry, index, tensor, previous)
                except Exception as exc:  # noqa: BLE001  (recording what torch raises is the point)
                    self.error = error_record("construct", index, name, exc)
            self.warnings.extend(warning_records(caught, "construct", index))
            if self.error:
                return
            module.eval()
            if initialise is not None:
                initialise(module, name)
            self.model.add_module(name, module)
            self.weights_before.update({f"{name}.{key}": value.clone() for key, value in module.state_dict().items()})
            record = {"index": index, "name": name, "type": entry["type"], "step": entry["type"] in STEPS,
                      "torch_kwargs": arguments, "inferred": inferred, "module": repr(module),
                      "input_shapes": [list(tensor.shape)], "input_dtypes": [str(tensor.dtype)],
                      "parameters": parameter_records(module),
                      "params": sum(p.numel() for p in module.parameters()),
                      "trainable_params": sum(p.numel() for p in module.parameters() if p.requires_grad),
                      "buffers": [name for name, _ in module.named_buffers()]}
            self.layers.append(record)
            arguments_in = [tensor]
            if reverse_time and index == 0:
                arguments_in = [torch.flip(tensor, dims=[1 if batch_axis(self.spec) == 0 else 0])]
            wanted = initial_state.get("layer")
            if wanted is not None and wanted in (name, index):
                states = self._states(initial_state, module, tensor, rng)
                self.initial_state = tensors_of(states)
                record["initial_state_shapes"] = [list(t.shape) for t in self.initial_state]
                arguments_in.append(states)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    with torch.no_grad():
                        result = module(*arguments_in)
                except Exception as exc:  # noqa: BLE001
                    self.error = error_record("forward", index, name, exc)
            self.warnings.extend(warning_records(caught, "forward", index))
            if self.error:
                return
            returned = tensors_of(result)
            record["output_shapes"] = [list(t.shape) for t in returned]
            record["output_dtypes"] = [str(t.dtype) for t in returned]
            self.outputs[name] = returned
            if isinstance(module, LastStep) and isinstance(previous, nn.RNNBase):
                record["equals_final_hidden"] = self._equals_final_hidden(returned[0], previous)
            tensor, previous = returned[0], module

    def _equals_final_hidden(self, last, recurrent):
        """Whether LastStep's result equals the recurrent module's last-layer h_n (joined over
        directions): h_n[-1], or torch.cat((h_n[-2], h_n[-1]), dim=-1) when bidirectional."""
        h_n = self.outputs[self.layers[-2]["name"]][1]
        final = torch.cat((h_n[-2], h_n[-1]), dim=-1) if recurrent.bidirectional else h_n[-1]
        return bool(final.shape == last.shape and torch.allclose(final, last, rtol=0, atol=1e-6))

    @property
    def ok(self):
        return self.error is None

    def output_keys(self, name=None):
        """A layer's outputs keyed as `lstmcalc verify --output` keys them: `name` for the output,
        `name[1]` for h_n and `name[2]` for c_n. Default: the last layer."""
        name = name if name is not None else self.layers[-1]["name"]
        returned = self.outputs[name]
        return {(name if i == 0 else f"{name}[{i}]"): t.numpy() for i, t in enumerate(returned)}

    def arrays(self):
        """The run in the npz layout the verifier reads: `weights/<layer>.<parameter>` (as loaded,
        before the forward pass), `inputs/input`, `initial_state/<i>`, `outputs/<key>` for the
        last layer and `intermediate/<key>` for the others."""
        last = self.layers[-1]["name"]
        arrays = {f"weights/{key}": value.numpy() for key, value in self.weights_before.items()}
        arrays["inputs/input"] = self.x.numpy()
        for index, state in enumerate(self.initial_state or []):
            arrays[f"initial_state/{index}"] = state.numpy()
        for layer in self.layers:
            group = "outputs" if layer["name"] == last else "intermediate"
            for key, value in self.output_keys(layer["name"]).items():
                arrays[f"{group}/{key}"] = value
        return arrays

    def summary(self):
        """The JSON-able record of the run."""
        return {"ok": self.ok, "error": self.error, "warnings": self.warnings,
                "input": {"shape": list(self.x.shape), "dtype": str(self.x.dtype)},
                "layers": self.layers,
                "params": sum(p.numel() for p in self.model.parameters()),
                "trainable_params": sum(p.numel() for p in self.model.parameters() if p.requires_grad),
                "state_dict_keys": list(self.model.state_dict().keys()),
                "output_shapes": self.layers[-1]["output_shapes"] if self.ok and self.layers else None}
