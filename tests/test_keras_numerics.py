"""The forward pass against REAL Keras 3: weights, inputs and outputs recorded by
scripts/record_keras_numerics.py (tests/fixtures/keras/numerics/*.npz). With Keras's weights,
lstmcalc's outputs must equal Keras's within 1e-5 (float32)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

import lstmcalc
from lstmcalc.verify import VerifyOptions, verify_report


FIXTURES = Path(__file__).resolve().parent / "fixtures" / "keras" / "numerics"
CASES = [case for name in ("numerics_cases.yaml", "conv_numerics_cases.yaml", "spatial_numerics_cases.yaml")
         for case in yaml.safe_load((FIXTURES.parent / name).read_text(encoding="utf-8"))]
TOLERANCE = 1e-5


def load(case_id: str):
    with np.load(FIXTURES / f"{case_id}.npz") as data:
        arrays = {key: data[key] for key in data.files}

    def group(prefix: str):
        return {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}

    states = group("initial_state/")
    return (json.loads(str(arrays["spec"])), json.loads(str(arrays["meta"])), group("weights/"),
            group("inputs/"), [states[str(index)] for index in range(len(states))], group("outputs/"))


@pytest.mark.parametrize("case_id", [case["id"] for case in CASES])
def test_outputs_equal_keras(case_id):
    spec, meta, weights, inputs, states, expected = load(case_id)
    report = lstmcalc.analyze_text(yaml.safe_dump(spec))
    assert report.ok, report.diagnostics
    initial_states = {meta["initial_state"]: states} if states else None
    result = verify_report(report, VerifyOptions(weights=weights, inputs=inputs, initial_states=initial_states))
    assert result.ok, [diagnostic.message for diagnostic in result.diagnostics]
    assert sorted(result.outputs) == sorted(expected)
    for key, keras_output in expected.items():
        computed = result.outputs[key]
        assert computed.shape == keras_output.shape, key
        assert computed.dtype == keras_output.dtype, key
        # NaN where Keras has NaN (a fully masked sample's average), within 1e-5 elsewhere
        np.testing.assert_array_equal(np.isnan(computed), np.isnan(keras_output))
        np.testing.assert_allclose(computed, keras_output, rtol=0, atol=TOLERANCE, equal_nan=True, err_msg=key)


def test_fixtures_cover_the_issue():
    """Every cell, GRU variant, merge mode, both mask sources with and without return_sequences, and
    initial_state have a recorded case."""
    specs = {case["id"]: json.dumps(case["spec"]) for case in CASES}
    text = " ".join(specs.values())
    for needle in ("LSTM(", "SimpleRNN(", "reset_after=False", "GRU(3, return_sequences=True)",
                   "merge_mode='sum'", "merge_mode='mul'", "merge_mode='ave'", "merge_mode=None",
                   "Bidirectional(LSTM(3, return_sequences=True))", "go_backwards=True", "return_state=True"):
        assert needle in text, needle
    masked = [case for case in CASES if case.get("pad")]
    for source in ("mask_zero=True", "Masking("):
        kinds = {("return_sequences=True" in json.dumps(case["spec"]["layers"][-1])) for case in masked
                 if source in json.dumps(case["spec"])}
        assert kinds == {True, False}, source
    assert {case["initial_state"] for case in CASES if case.get("initial_state")} >= {
        "lstm", "gru", "simple_rnn", "bidirectional"}
    assert all((FIXTURES / f"{case_id}.npz").exists() for case_id in specs)


def test_fixtures_cover_the_convolutional_recurrent_layers():
    """Every ConvLSTM rank, both data formats, strides and dilation, return_state and go_backwards,
    masks of whole frames and of pixels, initial states, and Bidirectional with every merge mode."""
    text = " ".join(json.dumps(case["spec"]) for case in CASES)
    for needle in ("ConvLSTM1D(", "ConvLSTM2D(", "ConvLSTM3D(", "data_format='channels_first'", "strides=2",
                   "dilation_rate=2", "return_state=True", "go_backwards=True", "Masking(",
                   "merge_mode='sum'", "merge_mode='mul'", "merge_mode='ave'", "merge_mode=None", "Conv2D(",
                   "Conv3D(", "groups=2"):
        assert needle in text, needle
    ids = {case["id"] for case in CASES}
    assert {"convlstm2d-masking-pixels", "convlstm2d-masking-frames", "bi-convlstm2d-masking"} <= ids
    assert {case["initial_state"] for case in CASES if case.get("initial_state")} >= {
        "conv_lstm1d", "conv_lstm2d", "conv_lstm3d"}


def test_keras_declares_other_shapes_for_a_different_backward_layer():
    # Keras declares (None, 5, 6) (= 2 × 3 units) but concatenates LSTM(3) and GRU(2): (4, 5, 5).
    spec, _, weights, inputs, _, expected = load("bidirectional-backward-layer")
    result = verify_report(lstmcalc.analyze_text(yaml.safe_dump(spec)),
                           VerifyOptions(weights=weights, inputs=inputs))
    assert result.report.layers[0].output_shapes == [(None, 5, 6)]
    assert expected["bidirectional"].shape == (4, 5, 5)
    assert [d.code for d in result.diagnostics] == ["V006"]
    assert result.diagnostics[0].severity == "warning"  # nothing comes after it


def test_documented_recipe_is_the_recorders():
    """The documented export recipe (docs/guides/verify.md) is the code that keyed these fixtures."""
    readme = (Path(__file__).resolve().parent.parent / "docs" / "guides" / "verify.md").read_text(encoding="utf-8")
    script = (Path(__file__).resolve().parent.parent / "scripts" / "record_keras_numerics.py").read_text(
        encoding="utf-8")
    body = script.split("def export_weights(model):")[1].split("\ndef ")[0]
    recipe = [line.strip() for line in body.splitlines() if line.strip().startswith(("parts =", "return {"))]
    assert len(recipe) == 2
    assert recipe[0].split("  # noqa")[0] in readme
    assert recipe[1].replace("return ", "") in readme


def test_fixtures_cover_the_spatial_layers():
    """Each pooling, resampling, padding and cropping type, both data formats where it has them, and
    every interpolation of UpSampling2D, has numbers recorded from Keras."""
    from .keras_fixtures import types_in

    used = set().union(*(types_in(case["spec"]) for case in CASES))
    assert used >= {f"{kind}{dims}D" for kind in ("MaxPooling", "AveragePooling", "GlobalAveragePooling",
                                                    "GlobalMaxPooling") for dims in (2, 3)}
    assert used >= {"UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D",
                    "Cropping2D", "TimeDistributed"}
    text = " ".join(json.dumps(case["spec"]) for case in CASES)
    for interpolation in ("bilinear", "bicubic", "area", "lanczos3", "lanczos5"):
        assert f"interpolation='{interpolation}'" in text, interpolation
    for kind in ("MaxPooling2D", "AveragePooling2D", "MaxPooling3D", "AveragePooling3D", "GlobalMaxPooling2D",
                 "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "Cropping2D"):
        assert any(kind in json.dumps(case["spec"]) and "channels_first" in json.dumps(case["spec"])
                   for case in CASES), kind
