"""PyTorch graphs (several inputs or outputs, merges, states used as outputs or as another module's
initial state) ported to Keras: the layers written, the forward passes agreeing (lstmcalc port's
proof), the weights coming back bit for bit after a round trip from Keras, and the clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from lstmcalc import analyze_text
from lstmcalc.cli import cli
from lstmcalc.port import PortOptions, port_report

ROOT = Path(__file__).resolve().parent.parent

SPECS = Path(__file__).resolve().parent.parent / "specs"
TOLERANCE = 1e-5


def random_weights(report, separator, seed=0):
    rng = np.random.default_rng(seed)
    return {f"{layer.name}{separator}{weight.name}": (rng.standard_normal(weight.shape) * 0.3).astype("float32")
            for layer in report.layers for weight in layer.weights}


# Each bundled Keras graph ported to PyTorch, then back: the Keras layers written, and the count,
# which is the original's.
BUNDLED = [
    # trunk 4·(32·(6+32)+32) = 4,992; price 32+1 = 33; direction 3·32+3 = 99 → 5,124. The LastStep
    # is the trunk's one consumer: return_sequences false.
    ("two_head.yaml", ["LSTM", "Dense", "Dense"], ["price", "direction"], 5124),
    # seq_lstm 4·(16·(12+16)+16) = 1,856; static_dense 5·8+8 = 48; head 24+1 = 25 → 1,929
    ("two_input_concatenate.yaml", ["LSTM", "Dense", "Concatenate", "Dense"], ["head"], 1929),
    # torch's h_n.select(0, k) rows are the Bidirectional's states (return_state); the decoder's
    # h_0 = state_h.unsqueeze(0) is Keras's initial_state [state_h, state_c]:
    # 49,664 + 82,432 + 4,128 = 136,224
    ("bidirectional_encoder_decoder.yaml", ["Bidirectional", "Concatenate", "Concatenate", "LSTM", "Dense"],
     ["projection"], 136224),
    # merge_mode sum was written as LastStep, two x.narrow halves and Add: each narrow is
    # Reshape (64,) → (64, 1), Cropping1D, Reshape → (32,); 41,472 + 41,216 + 33 = 82,721
    ("bidirectional_stack.yaml", ["Bidirectional", "Bidirectional"] + ["Reshape", "Cropping1D", "Reshape"] * 2
     + ["Add", "Dense"], ["dense"], 82721),
]


@pytest.mark.parametrize("name, types, outputs, params", BUNDLED, ids=[case[0] for case in BUNDLED])
def test_bundled_graphs_port_to_pytorch_and_back_to_the_same_keras_weights(name, types, outputs, params, tmp_path):
    report = analyze_text((SPECS / name).read_text(encoding="utf-8"), file=name)
    keras_weights = random_weights(report, "/")
    there = port_report(report, PortOptions(target="pytorch", weights=keras_weights))
    assert there.ok, there.diagnostics
    torch_spec = tmp_path / "torch.yaml"
    torch_spec.write_text(there.spec_text(), encoding="utf-8")
    np.savez(tmp_path / "torch.npz", **there.weights)
    result = CliRunner().invoke(cli, ["port", str(torch_spec), "--weights", str(tmp_path / "torch.npz"), "--to",
                                      "keras", "-o", str(tmp_path / "keras.npz"), "--spec-out",
                                      str(tmp_path / "keras.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["ok"] and document["largest_difference"] <= TOLERANCE
    assert [layer["type"] for layer in document["spec"]["layers"]] == types
    assert document["spec"]["outputs"] == outputs
    written = analyze_text((tmp_path / "keras.yaml").read_text(encoding="utf-8"))
    assert written.ok and written.totals.params == params == report.totals.params
    with np.load(tmp_path / "keras.npz") as back:
        assert sorted(back.files) == sorted(keras_weights)
        for key, value in keras_weights.items():
            assert np.array_equal(back[key], value), key


def torch_graph(inputs, layers, outputs):
    return yaml.safe_dump({"framework": "pytorch", "batch_size": 3, "inputs": inputs, "layers": layers,
                           "outputs": outputs}, sort_keys=False)


def ported(text):
    report = analyze_text(text, file="torch.yaml")
    assert report.ok, report.errors
    return port_report(report, PortOptions(target="keras", weights=random_weights(report, ".")))


SEQUENCE = {"x": {"shape": [6, 4]}}
TWO = {"x": {"shape": [6, 4]}, "y": {"shape": [5, 4]}}


def lstm(name, inputs, hidden=8, **more):
    return {"type": "LSTM", "name": name, "hidden_size": hidden, "batch_first": True, "inputs": inputs, **more}


# PyTorch graphs and the Keras layers (type, arguments that matter) and outputs they become.
GRAPHS = {
    # out, (h, c) = enc(x); dec(y, (h, c)): return_state on the encoder, whose rows 0 are Keras's h, c
    "states as initial states": (
        TWO, [lstm("enc", "x"), lstm("dec", "y", initial_state=["enc[1]", "enc[2]"])], ["dec[0]"],
        [("LSTM", {"return_sequences": True, "return_state": True}), ("LSTM", {"initial_state": ["enc[1]", "enc[2]"]})],
        ["dec"]),
    # two-layer modules: row l of (h_n, c_n) is Keras layer l's [h, c], each decoder layer's initial state
    "states of two layers as initial states": (
        TWO, [lstm("enc", "x", num_layers=2), lstm("dec", "y", num_layers=2, initial_state=["enc[1]", "enc[2]"])],
        ["dec[0]"], [("LSTM", {"return_state": True}), ("LSTM", {"return_state": True, "inputs": "enc[0]"}),
                     ("LSTM", {"initial_state": ["enc[1]", "enc[2]"]}),
                     ("LSTM", {"initial_state": ["enc_l1[1]", "enc_l1[2]"], "inputs": "dec"})], ["dec_l1"]),
    # the output used whole and its last step: the last step is the final h (return_state), not
    # return_sequences false (the whole sequence is needed too)
    "last step of an output used whole": (
        SEQUENCE, [lstm("enc", "x"), {"type": "LastStep", "name": "last", "inputs": "enc[0]"}],
        ["enc[0]", "last"], [("LSTM", {"return_sequences": True, "return_state": True})], ["enc[0]", "enc[1]"]),
    # the same after a bidirectional module: both directions' final h, joined
    "last step of a bidirectional output used whole": (
        SEQUENCE, [lstm("enc", "x", bidirectional=True), {"type": "LastStep", "name": "last", "inputs": "enc[0]"}],
        ["enc[0]", "last"], [("Bidirectional", {}), ("Concatenate", {"inputs": ["enc[1]", "enc[3]"]})],
        ["enc[0]", "last"]),
    # h_n.select(0, 0) of a two-layer module: the first Keras layer's state; the second layer takes [0]
    "a lower layer's state": (
        SEQUENCE, [lstm("enc", "x", num_layers=2), {"type": "Select", "name": "low", "dim": 0, "index": 0,
                                                   "inputs": "enc[1]"}],
        ["enc[0]", "low"], [("LSTM", {"return_state": True}), ("LSTM", {"inputs": "enc[0]"})],
        ["enc_l1", "enc[1]"]),
    # GRU state into a GRU decoder; Sub and Maximum of the outputs
    "GRU state and merges": (
        TWO, [{"type": "GRU", "name": "enc", "hidden_size": 8, "batch_first": True, "inputs": "x"},
              {"type": "LastStep", "name": "last", "inputs": "enc[0]"},
              {"type": "GRU", "name": "dec", "hidden_size": 8, "batch_first": True, "inputs": "y",
               "initial_state": ["enc[1]"]},
              {"type": "LastStep", "name": "dec_last", "inputs": "dec[0]"},
              {"type": "Sub", "name": "difference", "inputs": ["last", "dec_last"]},
              {"type": "Maximum", "name": "larger", "inputs": ["difference", "last"]}],
        # the encoder's LastStep is its output's one consumer: return_sequences false, with return_state
        # for the decoder's initial state, so the last step is enc[0]
        ["larger"], [("GRU", {"return_state": True, "return_sequences": False}),
                     ("GRU", {"initial_state": ["enc[1]"], "return_sequences": False}),
                     ("Subtract", {"inputs": ["enc[0]", "dec"]}), ("Maximum", {})], ["larger"]),
    # a bidirectional GRU's [out, h_fwd, h_bwd]: its last step is Concatenate of h_fwd and h_bwd
    "last step of a bidirectional GRU used whole": (
        SEQUENCE, [{"type": "GRU", "name": "enc", "hidden_size": 5, "batch_first": True, "bidirectional": True,
                    "inputs": "x"}, {"type": "LastStep", "name": "last", "inputs": "enc[0]"}],
        ["enc[0]", "last"], [("Bidirectional", {"return_state": True}),
                             ("Concatenate", {"inputs": ["enc[1]", "enc[2]"]})], ["enc[0]", "last"]),
    # time major (batch_first false): Keras's layers read batch first; the last steps of nn.RNN (relu)
    # and nn.GRU, each (batch, hidden), joined
    "time-major modules and a cat": (
        TWO, [{"type": "RNN", "name": "rnn", "hidden_size": 6, "nonlinearity": "relu", "inputs": "x"},
              {"type": "LastStep", "name": "last", "inputs": "rnn[0]"},
              {"type": "GRU", "name": "gru", "hidden_size": 2, "inputs": "y"},
              {"type": "LastStep", "name": "other", "inputs": "gru[0]"},
              {"type": "Cat", "name": "both", "dim": -1, "inputs": ["last", "other"]}],
        ["both"], [("SimpleRNN", {"activation": "relu", "return_sequences": False}),
                   ("GRU", {"return_sequences": False}), ("Concatenate", {"inputs": ["rnn", "gru"]})], ["both"]),
    # torch.cat along the features of a sequence (dim 2 counts the batch axis, as Keras's axis does);
    # one input through to one output is written as a stack, without `outputs:`
    "cat of sequences": (
        SEQUENCE, [lstm("a", "x"), lstm("b", "x", hidden=3), {"type": "Cat", "name": "both", "dim": 2,
                                                              "inputs": ["a[0]", "b[0]"]}],
        ["both"], [("LSTM", {}), ("LSTM", {}), ("Concatenate", {"axis": 2})], ["both"]),
    # x.narrow on a sequence's features: Permute, Cropping1D on the features, Permute back
    "narrow of a sequence": (
        SEQUENCE, [lstm("a", "x"), {"type": "Narrow", "name": "half", "dim": -1, "start": 2, "length": 4,
                                    "inputs": "a[0]"}],
        ["half"], [("LSTM", {}), ("Permute", {"dims": [2, 1]}), ("Cropping1D", {"cropping": [2, 2]}),
                   ("Permute", {"dims": [2, 1]})], None),
}


# The Keras model's count: LSTM 4·(H·(F+H)+H) (torch's two biases one), GRU (reset_after)
# 3·(H·(F+H)+2·H), SimpleRNN H·(F+H)+H, a Bidirectional twice its layer's.
KERAS_PARAMS = {
    "states as initial states": 2 * 4 * (8 * (4 + 8) + 8),  # 832
    "states of two layers as initial states": 2 * (4 * (8 * (4 + 8) + 8) + 4 * (8 * (8 + 8) + 8)),  # 1,920
    "last step of an output used whole": 4 * (8 * (4 + 8) + 8),  # 416
    "last step of a bidirectional output used whole": 2 * 4 * (8 * (4 + 8) + 8),  # 832
    "a lower layer's state": 4 * (8 * (4 + 8) + 8) + 4 * (8 * (8 + 8) + 8),  # 960
    "GRU state and merges": 2 * 3 * (8 * (4 + 8) + 2 * 8),  # 672
    "last step of a bidirectional GRU used whole": 2 * 3 * (5 * (4 + 5) + 2 * 5),  # 330
    "time-major modules and a cat": 6 * (4 + 6) + 6 + 3 * (2 * (4 + 2) + 2 * 2),  # 66 + 48
    "cat of sequences": 4 * (8 * (4 + 8) + 8) + 4 * (3 * (4 + 3) + 3),  # 416 + 96
    "narrow of a sequence": 4 * (8 * (4 + 8) + 8),  # 416
}


@pytest.mark.parametrize("case", sorted(GRAPHS))
def test_pytorch_graphs_port_to_keras_and_both_passes_agree(case):
    inputs, layers, outputs, written, written_outputs = GRAPHS[case]
    result = ported(torch_graph(inputs, layers, outputs))
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.largest_difference <= TOLERANCE
    got = result.spec["layers"]
    assert [layer["type"] for layer in got] == [kind for kind, _ in written]
    for layer, (kind, arguments) in zip(got, written):
        settings = {**layer, **layer.get("layer", {})}
        assert {key: settings.get(key) for key in arguments} == arguments, layer
    assert result.spec.get("outputs") == written_outputs
    keras = analyze_text(yaml.safe_dump(result.spec, sort_keys=False))
    assert keras.ok and keras.totals.params == KERAS_PARAMS[case]


# What has no exact Keras layer: refused (P002), naming the layer and why.
REFUSED = {
    "h_n returned whole": (SEQUENCE, [lstm("enc", "x")], ["enc[1]"], "enc", "no Keras layer returns such a tensor whole"),
    # (3, 3, 8) + (3, 8): torch broadcasts the second across the batch axis (batch size 3 = 3 steps)
    "add of different ranks": (
        {"x": {"shape": [3, 4]}}, [lstm("a", "x"), {"type": "LastStep", "name": "p", "inputs": "a[0]"},
                   {"type": "Add", "name": "sum", "inputs": ["a[0]", "p"]}],
        ["sum"], "sum", "differ in rank"),
    "last step of a tensor no recurrent module made": (
        SEQUENCE, [{"type": "Linear", "name": "dense", "out_features": 3, "inputs": "x"},
                   {"type": "LastStep", "name": "p", "inputs": "dense"}], ["p"], "p", "last step of any tensor"),
    "narrow of the steps of unknown length": (
        {"x": {"shape": [None, 4]}}, [lstm("a", "x"), {"type": "Narrow", "name": "early", "dim": 1, "start": 0,
                                                       "length": 2, "inputs": "a[0]"}],
        ["early"], "early", "Cropping1D"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_pytorch_graphs_without_an_exact_keras_equivalent_are_refused(case, tmp_path):
    inputs, layers, outputs, layer, words = REFUSED[case]
    spec = tmp_path / "torch.yaml"
    spec.write_text(torch_graph(inputs, layers, outputs), encoding="utf-8")
    report = analyze_text(spec.read_text(encoding="utf-8"))
    assert report.ok, report.errors
    np.savez(tmp_path / "torch.npz", **random_weights(report, "."))
    result = CliRunner().invoke(cli, ["port", str(spec), "--weights", str(tmp_path / "torch.npz"), "--to", "keras",
                                      "-o", str(tmp_path / "keras.npz"), "--format", "json"])
    assert result.exit_code == 1, result.output
    (finding,) = [item for item in json.loads(result.output)["diagnostics"] if item["severity"] == "error"]
    assert finding["code"] == "P002" and words in finding["message"]
    assert finding["layer"] in (layer, None) and layer in finding["message"]
    assert not (tmp_path / "keras.npz").exists()


SOURCE = '''import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.head(out[:, -1, :]), {returned}
'''


@pytest.mark.parametrize("returned, code, words", [
    # h[-1] of a one-layer module is the last step: with out[:, -1, :] also taken, the final h
    # (return_state), once for both
    ("h[-1]", 0, "layers.LSTM(units=8, return_sequences=True, return_state=True, name='lstm')(x)"),
    # the states' stack (1, N, 8) itself: no Keras tensor
    ("h", 1, "lstm[1] is a stack of states"),
    ("c", 1, "lstm[2] is a stack of states"),
])
def test_convert_of_a_pytorch_graph_source_to_keras(returned, code, words, tmp_path):
    source = tmp_path / "encoder.py"
    source.write_text(SOURCE.format(returned=returned), encoding="utf-8")
    result = CliRunner().invoke(cli, ["convert", str(source), "--to", "keras", "--input", "6,4", "--batch-size", "3"])
    assert result.exit_code == code, result.output
    assert words in result.output


# PyTorch graphs run in real torch 2.13 and their port run in real Keras 3.15 on the same input
# (tests/fixtures/keras/torch_graph_numerics, scripts/record_torch_graph_keras_numerics.py).
NUMERICS = sorted((Path(__file__).resolve().parent / "fixtures" / "keras" / "torch_graph_numerics").glob("*.npz"))


@pytest.mark.parametrize("path", NUMERICS, ids=[path.stem for path in NUMERICS])
def test_ported_pytorch_graphs_give_torchs_outputs_in_real_keras(path, tmp_path):
    import hashlib

    from lstmcalc.api import analyze
    from lstmcalc.readers.python_torch import SourceOptions
    from lstmcalc.verify import VerifyOptions, verify_report

    with np.load(path) as data:
        arrays = {key: data[key] for key in data.files}
    torch_outputs = sorted(key for key in arrays if key.startswith("torch/"))
    # The recorded evidence: Keras's outputs are torch's.
    for key in torch_outputs:
        keras_output = arrays["keras/" + key.split("/")[1]]
        assert keras_output.shape == arrays[key].shape
        assert np.max(np.abs(keras_output - arrays[key])) <= TOLERANCE, key
    # lstmcalc ports the recorded state_dict to the very weights Keras ran with ...
    source = tmp_path / "model.py"
    source.write_text(str(arrays["code"]), encoding="utf-8")
    options = dict(zip(json.loads(str(arrays["read_back"]))[::2], json.loads(str(arrays["read_back"]))[1::2]))
    samples = [tuple(None if size == "None" else int(size) for size in sample.split(","))
               for sample in options["--input"].split(";")]
    report = analyze(source, source=SourceOptions(samples[0], None, int(options["--batch-size"]),
                                                  more_inputs=tuple(samples[1:])))
    state_dict = {key[len("state_dict/"):]: value for key, value in arrays.items() if key.startswith("state_dict/")}
    result = port_report(report, PortOptions(target="keras", weights=state_dict))
    assert result.ok, result.diagnostics
    assert {key: hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
            for key, value in result.weights.items()} == json.loads(str(arrays["keras_weights"]))
    # ... and its own Keras forward pass of them gives Keras's recorded outputs.
    keras = analyze_text(yaml.safe_dump(result.spec, sort_keys=False))
    names = json.loads(str(arrays["input_names"]))
    run = verify_report(keras, VerifyOptions(weights=result.weights,
                                             inputs={name: arrays[f"inputs/{name}"] for name in names}))
    assert run.ok, run.diagnostics
    ours = list(run.outputs.values())
    assert len(ours) == len(torch_outputs)
    for index, value in enumerate(ours):
        assert np.max(np.abs(value - arrays[f"keras/{index}"])) <= TOLERANCE, index


def test_port_reads_a_pytorch_source_given_its_input(tmp_path):
    """`lstmcalc port model.py --input ...`: the source read as summary reads it, ported to Keras."""
    spec = ROOT / "specs" / "two_input_concatenate.yaml"
    source = tmp_path / "two.py"
    assert CliRunner().invoke(cli, ["convert", str(spec), "--to", "pytorch", "-o", str(source)]).exit_code == 0
    report = analyze_text(CliRunner().invoke(cli, ["convert", str(source), "--to", "yaml", "--input", "30,12;5",
                                                   "--batch-size", "2"]).output, file="two.yaml")
    rng = np.random.default_rng(3)
    # Keras: LSTM 4 × (16 × (12 + 16) + 16) = 1,856, Dense 5 × 8 + 8 = 48, Dense 24 × 1 + 1 = 25: 1,929;
    # torch keeps a second LSTM bias, 4 × 16 = 64 more: 1,993.
    weights = {f"{layer.name}.{weight.name}": rng.uniform(-0.2, 0.2, weight.shape).astype("float32")
               for layer in report.layers for weight in layer.weights}
    assert sum(array.size for array in weights.values()) == 1_993
    np.savez(tmp_path / "state_dict.npz", **weights)
    arguments = ["port", str(source), "--input", "30,12;5", "--batch-size", "2", "--weights",
                 str(tmp_path / "state_dict.npz"), "--to", "keras", "-o", str(tmp_path / "keras.npz")]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    assert "largest difference" in result.output and (tmp_path / "keras.npz").exists()
    refused = CliRunner().invoke(cli, ["port", str(spec), "--input", "30,12", "--weights",
                                       str(tmp_path / "state_dict.npz"), "--to", "pytorch", "-o",
                                       str(tmp_path / "x.npz")])
    assert refused.exit_code == 2 and "--input gives what a PyTorch source" in refused.output


def test_cat_along_the_batch_axis_is_keras_concatenate_axis_0(tmp_path):
    """Keras builds and runs Concatenate(axis=0), joining the batches (random-70-095), as torch.cat
    dim=0 does: the port writes it and the outputs agree."""
    layers = [lstm("a", "x"), lstm("b", "y"), {"type": "LastStep", "name": "p", "inputs": "a[0]"},
              {"type": "LastStep", "name": "q", "inputs": "b[0]"},
              {"type": "Cat", "name": "rows", "dim": 0, "inputs": ["p", "q"]}]
    spec = tmp_path / "torch.yaml"
    spec.write_text(torch_graph(TWO, layers, ["rows"]), encoding="utf-8")
    report = analyze_text(spec.read_text(encoding="utf-8"))
    np.savez(tmp_path / "torch.npz", **random_weights(report, "."))
    result = CliRunner().invoke(cli, ["port", str(spec), "--weights", str(tmp_path / "torch.npz"), "--to", "keras",
                                      "-o", str(tmp_path / "keras.npz"), "--format", "json"])
    assert result.exit_code == 0, result.output
    ported = json.loads(result.output)
    assert ported["largest_difference"] <= TOLERANCE
    assert [layer for layer in ported["spec"]["layers"] if layer["type"] == "Concatenate"][0]["axis"] == 0
