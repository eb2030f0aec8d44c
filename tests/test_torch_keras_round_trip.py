"""Keras code from PyTorch code, run in real Keras 3.15 (tests/fixtures/keras/torch_round_trip.json,
recorded by scripts/record_keras_torch_round_trip.py): for every spec in specs/ and every random
Keras graph that PyTorch can express, the PyTorch code `convert --to pytorch` writes, read back as
its header says and converted `--to keras`, is Keras code that builds and runs in Keras with
lstmcalc's numbers — and the original model's counts and output shapes. What has no Keras code is
refused, saying why. The recorded runs are the evidence; no framework is needed here."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from lstmcalc import analyze_text
from lstmcalc.cli import cli
from lstmcalc.writers import WRITERS, NotConvertible

from .conftest import ROOT
from .test_convert import in_framework, keras_checked, read_back, same_shape
from .test_random_round_trip import output_shapes

FIXTURES = ROOT / "tests" / "fixtures" / "keras"
RECORDED = json.loads((FIXTURES / "torch_round_trip.json").read_text(encoding="utf-8"))["cases"]
RANDOM_GRAPHS = ["random_graph_seed31_reference.json", "random_wide_graph_seed42_reference.json"]
RANDOM = {f"keras/{case_id}": case["spec"] for file in RANDOM_GRAPHS
          for case_id, case in json.loads((FIXTURES / file).read_text(encoding="utf-8"))["cases"].items()}

# The bundled specs whose PyTorch code has Keras code again (every one PyTorch can express).
BUNDLED_BACK = ["bidirectional_encoder_decoder.yaml", "bidirectional_stack.yaml", "cnn_lstm.yaml",
                "pytorch_forecaster.yaml", "pytorch_text_classifier.yaml", "seed_000_dense.yaml",
                "seed_000_return_sequences.yaml", "seed_001_functional.yaml", "seed_001_stacked_lstm.yaml",
                "two_head.yaml", "two_input_concatenate.yaml", "video_classifier.yaml"]
# PyTorch code with no Keras code back, and the words saying why.
# (none since a permute(0, 2, 1) that no Conv1d reads is a Keras Permute in a graph: keras/random-31-159)
# (none since a fold of batch and time, x.flatten(0, 1) … x.unflatten(0, (-1, T)), reads back as
# TimeDistributed: video_classifier.yaml)
NO_KERAS: dict = {}


def spec_text(name):
    if name in RANDOM:
        return yaml.safe_dump(RANDOM[name], sort_keys=False)
    return (ROOT / "specs" / name).read_text(encoding="utf-8")


def test_every_bundled_spec_and_random_graph_is_recorded():
    assert {path.name for path in (ROOT / "specs").glob("*.yaml")} <= set(RECORDED)
    assert sorted(name for name, entry in RECORDED.items()
                  if not name.startswith("keras/") and entry.get("keras_code")) == BUNDLED_BACK
    # Every random graph with PyTorch code comes back (81 of them when recorded).
    with_torch_code = [name for name, entry in RECORDED.items() if name.startswith("keras/") and entry["pytorch_code"]]
    assert len(with_torch_code) >= 81
    assert [name for name in with_torch_code if not RECORDED[name]["keras_code"]] == sorted(
        name for name in NO_KERAS if name.startswith("keras/"))


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_keras_code_of_pytorch_code_runs_in_keras_with_the_original_counts_and_shapes(name, tmp_path):
    recorded = RECORDED[name]
    report = analyze_text(spec_text(name), file="model.yaml")
    if recorded["pytorch_code"] is None:
        with pytest.raises(NotConvertible) as refused:
            WRITERS["pytorch"].write(report)
        assert str(refused.value) in recorded["pytorch_error"]
        return
    torch_code = WRITERS["pytorch"].write(report)
    assert torch_code == recorded["pytorch_code"], "re-run scripts/record_keras_torch_round_trip.py"
    source = tmp_path / "model_torch.py"
    source.write_text(torch_code, encoding="utf-8")
    result = CliRunner().invoke(cli, ["convert", str(source), "--to", "keras", *recorded["read_back"]])
    if recorded["keras_code"] is None:
        assert result.exit_code == 1 and NO_KERAS[name] in result.output
        assert NO_KERAS[name] in recorded["keras_error"]
        return
    assert name not in NO_KERAS
    assert result.exit_code == 0, result.output
    assert result.output == recorded["keras_code"], "re-run scripts/record_keras_torch_round_trip.py"
    assert "error" not in recorded or recorded["error"] is None, recorded.get("error")
    written = read_back(result.output, "keras")
    keras_checked(written, recorded)  # lstmcalc's numbers of the Keras code are Keras's
    original = in_framework(report, "keras")  # a PyTorch spec: the Keras model its layers port to
    assert recorded["totals"]["params"] == original.totals.params
    assert recorded["totals"]["trainable_params"] == original.totals.trainable_params
    assert [list(shape) for shape in output_shapes(original)] == recorded["output_shapes"]
    # It ran (batch 2, unknown lengths 6) to tensors of those shapes.
    assert len(recorded["run_output_shapes"]) == len(recorded["output_shapes"])
    assert all(map(same_shape, recorded["output_shapes"], recorded["run_output_shapes"]))
