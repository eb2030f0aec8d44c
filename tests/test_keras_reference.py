"""lstmcalc against numbers recorded from real Keras 3 (tests/fixtures/keras, made by
scripts/record_keras_reference.py): the recurrent layers' cases, the convolutional ones of issue 9
and the masks that meet them. No TensorFlow is needed to run this."""

from __future__ import annotations

import pytest
import yaml

from lstmcalc import analyze_text
from lstmcalc.layers.registry import type_names

from .keras_fixtures import fails_when_run, load_cases, types_in

CASES = load_cases("sequential_reference.json", "conv_reference.json", "conv_mask_reference.json",
                   "spatial_reference.json", "mask_reference.json", "random_seed12_reference.json",
                   "random_seed13_reference.json", "random_wide_seed41_reference.json",
                   "random_seed61_reference.json", "random_wide_seed63_reference.json",
                   "random_varied_seed65_reference.json", "random_varied_seed67_reference.json",
                   "random_varied_seed69_reference.json", "random_varied_seed71_reference.json",
                   "bfloat16_reference.json", "td_global_pooling_reference.json",
                   "dtype_reference.json")


# Models Keras builds but that fail when they run; lstmcalc rejects them, with these codes.
REJECTED_ON_PURPOSE = {
    "bi-backward-layer-different-units-sum": "H004",
    "activation-threshold": "S006",
    # ConvLSTM with 0 filters: built with 0 parameters, "the convolution operation resulted in an empty output"
    "convlstm2d-filters-zero": "S006",
    # integers into a convolution: TensorFlow's conv refuses int32 with float32 kernels
    "convlstm2d-int-input": "H008",
    # Masking's per-pixel mask into a ConvLSTM whose maps are smaller than the frames (valid, strides)
    "convlstm1d-masking": "H007",
    "convlstm2d-masking-valid": "H007",
    "convlstm2d-masking-strides": "H007",
    "mask-masking5d-convlstm2d-valid": "H007",  # built only; the same model as convlstm2d-masking-valid
    # ... or through TimeDistributed layers into an LSTM, whose output has no pixels
    "mask-masking-video-classifier": "H007",
    "mask-masking-video-classifier-flatten": "H007",
    "mask-masking-td-maxpool-lstm": "H007",
    # Bidirectional(ConvLSTM2D(8, 3)) with a backward ConvLSTM2D(8, 5): 14×14 and 12×12 maps to concatenate
    "bi-convlstm2d-backward-layer-other-kernel": "H004",
    # UpSampling2D checks `interpolation` only in call(); ZeroPadding2D takes a negative int, and
    # TensorFlow refuses to pad by it ("Paddings must be non-negative")
    "upsampling2d-interpolation-unknown": "S006",
    "zeropad2d-negative": "S006",
    "zeropad2d-negative-to-nothing": "S006",
    # Keras builds an LSTM over 0 time steps but cannot run it (run_reference.json: lstm-zero-steps).
    "input-zero-length": "H012",
    # int32 frames into a ConvLSTM2D (as convlstm2d-int-input)
    "random-67-269": "H008",
    # TensorFlow's pooling ops take only some dtypes: MaxPool3D float16, bfloat16 and float32
    # (random-67-185 ran: "DataType float64 not in list of allowed values"); dtype_cases.yaml runs them all
    "random-67-185": "H008",
    "random-67-115": "H008",
    "random-69-120": "H008",  # MaxPooling3D in float64
    "random-71-223": "H008",  # bool frames into a ConvLSTM3D
    # TimeDistributed over a global pooling whose call() reduces axes the step does not have
    "td-gap3d-rank4": "H001",
    "td-gmp2d-channels-first-rank4": "H001",
    "td-gmp2d-rank3": "H001",
}

# TensorFlow's pooling ops take only some dtypes, whatever the device (dtype_cases.yaml runs every
# pooling case): Keras builds the layer, the run fails ("DataType int32 not in list of allowed values").
REJECTED_ON_PURPOSE.update({case_id: "H008" for case_id, case in CASES.items() if case_id.startswith("dtype-")
                            and fails_when_run(case)
                            and "not in list of allowed values" in case["run"]["error"]["core_message"]})

# Models Keras rejects at a later layer, which lstmcalc rejects earlier, on purpose (a layer Keras
# builds but cannot run), and then at Keras's layer too: (the earlier code, Keras's layer's code, or None
# when the layers after the first error get no input to check).
REJECTED_EARLIER_ON_PURPOSE = {
    # int32 frames into a ConvLSTM2D, then two layers named 'head'
    "random-65-101": ("H008", "S009"),
    # int32 into AveragePooling3D (TensorFlow's AvgPool3D averages floats only), then a 2-D pooling of 5-D maps
    "random-67-158": ("H008", None),
}

# Models whose recorded run failed only at the sizes the recorder picked for unknown axes (4, or
# the case's own): lstmcalc accepts them, as Keras does at other sizes.
RUNS_AT_OTHER_SIZES = {
    "conv2d-unknown-spatial-run-too-small": "2×2 images through a 3×3 valid kernel; 3×3 and larger run",
    "crop1d-unknown-steps-too-short-at-run": "Cropping1D((2, 2)) of 2 steps; 5 steps and more run",
    "random-13-228": "Conv1D(4, 5) on 4 steps of an unknown length; 5 steps and more run",
}


def analyze_case(case):
    return analyze_text(yaml.safe_dump(case["spec"], sort_keys=False), file="case.yaml")


def _shapes(shapes):
    return [tuple(shape) for shape in shapes]


def _keras_view(weights):
    """lstmcalc names a Bidirectional's weights forward/kernel ... backward/kernel; Keras lists the
    forward copy's weights, then the backward copy's, under their paths. Compare without the prefix,
    and check that the directions come in Keras's order."""
    names = [weight.name.split("/")[-1] for weight in weights]
    directions = [weight.name.split("/")[0] for weight in weights if "/" in weight.name]
    assert directions == sorted(directions, key=["forward", "backward"].index)
    assert directions.count("forward") == directions.count("backward")
    return names


def _trains(weight) -> bool:
    # What trains is the variable's flag; Keras's per-layer count differs for wrappers built with
    # trainable=False (a Keras 3 quirk lstmcalc reports as P001), its model totals do not.
    return weight.get("variable_trainable", weight["trainable"])


def _size(shape) -> int:
    total = 1
    for dim in shape:
        total *= dim
    return total


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_matches_keras(case_id):
    case = CASES[case_id]
    report = analyze_case(case)
    if not case.get("built", True):
        # Keras leaves a Sequential without an input unbuilt (no shapes); lstmcalc asks for one.
        assert [d.code for d in report.errors][:1] in (["S002"], ["S010"]), report.diagnostics
        return
    if case_id in REJECTED_ON_PURPOSE:
        assert case["ok"] and [d.code for d in report.errors] == [REJECTED_ON_PURPOSE[case_id]]
        return
    if case_id in REJECTED_EARLIER_ON_PURPOSE:
        earlier, later = REJECTED_EARLIER_ON_PURPOSE[case_id]
        assert not case["ok"] and report.errors[0].code == earlier
        assert [(d.code, d.layer) for d in report.errors][1:] == (
            [(later, case["error"]["layer_name"])] if later else [])
        return
    if fails_when_run(case) and case_id not in RUNS_AT_OTHER_SIZES:
        pytest.fail(f"Keras builds {case_id} but cannot run it ({case['run']['error']['core_message'][:200]}); "
                    "lstmcalc should reject it: list it in REJECTED_ON_PURPOSE with its code")
    assert report.ok == case["ok"], (case.get("error"), report.diagnostics)
    ours = {layer.name: layer for layer in report.layers}
    for expected in case["layers"]:
        layer = ours.get(expected["name"])
        assert layer is not None, f"no layer {expected['name']} in {list(ours)}"
        assert layer.type == expected["class_name"]
        assert layer.output_shapes == _shapes(expected["output_shapes"]), expected["name"]
        assert layer.output_dtypes == expected["output_dtypes"], expected["name"]
        trainable = sum(_size(w["shape"]) for w in expected["weights"] if _trains(w))
        assert (layer.params, layer.trainable_params) == (expected["params"], trainable), expected["name"]
        assert list(zip(_keras_view(layer.weights), [w.shape for w in layer.weights],
                        [w.trainable for w in layer.weights])) == [
            (w["name"], tuple(w["shape"]), _trains(w)) for w in expected["weights"]]
    if case["ok"]:
        assert [layer.name for layer in report.layers] == [layer["name"] for layer in case["layers"]]
        assert [item.shape for item in report.inputs] == [tuple(i["shape"]) for i in case["inputs"]]
        assert report.totals.params == case["totals"]["params"]
        assert report.totals.trainable_params == case["totals"]["trainable_params"]
    else:
        named = case["error"].get("layer_name")
        if named:
            assert report.errors[0].layer == named, report.errors[0]


SUMMARIES = sorted(case_id for case_id, case in CASES.items()
                   if case.get("summary") and case_id not in REJECTED_ON_PURPOSE)


@pytest.mark.parametrize("case_id", SUMMARIES)
def test_summary_table_equals_keras(case_id):
    """The plain-text table is Keras's own `model.summary()`, character for character."""
    from lstmcalc.render import RenderOptions, get_renderer

    report = analyze_case(CASES[case_id])
    ours = get_renderer("table")(report, RenderOptions(width=88)).rstrip("\n").splitlines()
    keras_lines = CASES[case_id]["summary"].rstrip("\n").splitlines()
    assert ours[:len(keras_lines)] == keras_lines
    # lstmcalc may add its warnings below Keras's table, nothing else
    assert all(line.startswith(("warning[", "info[", "  hint:")) for line in ours[len(keras_lines):])


def test_every_recorded_type_is_registered():
    """Each layer type the fixtures use is registered."""
    used = set().union(*(types_in(case["spec"]) for case in CASES.values()))
    assert sorted(used - set(type_names())) == []


def test_rejections_on_purpose_are_recorded_cases():
    assert set(REJECTED_ON_PURPOSE) | set(RUNS_AT_OTHER_SIZES) | set(REJECTED_EARLIER_ON_PURPOSE) <= set(CASES)


def test_what_keras_cannot_run_is_listed():
    """Every recorded model that Keras builds but cannot run is rejected (REJECTED_ON_PURPOSE) or runs at
    other sizes (RUNS_AT_OTHER_SIZES): nothing is left to chance."""
    unlisted = [case_id for case_id, case in CASES.items() if fails_when_run(case)
                and case_id not in REJECTED_ON_PURPOSE and case_id not in RUNS_AT_OTHER_SIZES]
    assert unlisted == []


# The errors the convolutional layers of issue 9 raise in Keras's words (argument checks have
# lstmcalc's own, S005/S006); TimeDistributed checks its layer's rank before Keras's kernel check does.
KERAS_WORDED = {"H001", "H003", "H004", "S012", "T001"}
OWN_WORDS = {"td-conv2d-wrong-rank", "conv2d-unknown-channels",
             # TensorFlow's QR refusal of bfloat16, quoted in part (its NodeDef is long)
             "bf16-convlstm1d", "bf16-convlstm2d", "random-71-238",
             # channels_first Conv3D of an unknown channel axis (as conv2d-unknown-channels)
             "random-65-293", "random-67-256"}
CONV_TYPES = {"Conv2D", "Conv3D", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"}
WRAPPERS = {"Bidirectional", "TimeDistributed"}


def _quoted(case_id: str) -> bool:
    """lstmcalc rejects the case at a convolutional layer (or its wrapper) with one of its Keras-worded codes."""
    case = CASES[case_id]
    if case["ok"] or case_id in OWN_WORDS or not types_in(case["spec"]) & CONV_TYPES:
        return False
    report = analyze_case(case)
    error = report.errors[0]
    layer = report.layer(error.layer) if error.layer else None
    return error.code in KERAS_WORDED and (layer is None or layer.type in CONV_TYPES | WRAPPERS)


@pytest.mark.parametrize("case_id", [case_id for case_id in sorted(CASES) if _quoted(case_id)])
def test_convolution_errors_quote_keras(case_id):
    case = CASES[case_id]
    keras = case["error"]["core_message"].replace(" with name 'None'", "")
    assert keras in analyze_case(case).errors[0].message


# -- models Keras ran once (`run:` cases): the verifier runs them at the same sizes -------------

RUNS = sorted(case_id for case_id, case in CASES.items()
              if case.get("run") and case_id not in REJECTED_ON_PURPOSE)


def _run_sizes(case):
    """The batch, and the one size Keras's run gave the spec's unknown axes."""
    (recorded_shape,) = case["run"]["input_shapes"]
    spec_input = case["spec"]["input"]
    spec_shape = spec_input["shape"] if isinstance(spec_input, dict) else spec_input
    unknown = {size for size, dim in zip(recorded_shape[1:], spec_shape) if dim is None}
    assert len(unknown) <= 1
    return recorded_shape[0], (unknown.pop() if unknown else 7)


@pytest.mark.parametrize("case_id", RUNS)
def test_verifier_runs_what_keras_ran(case_id):
    """Where Keras's run succeeded, the forward pass gives its output shapes; where only TensorFlow's
    CPU kernels failed, it runs; where it failed at the recorder's sizes only (RUNS_AT_OTHER_SIZES),
    the verifier says those sizes do not fit (V007)."""
    from lstmcalc.verify import VerifyOptions, verify_report

    case = CASES[case_id]
    batch, timesteps = _run_sizes(case)
    result = verify_report(analyze_case(case), VerifyOptions(batch_size=batch, timesteps=timesteps))
    if case["run"]["ok"]:
        assert result.ok, [d.message for d in result.diagnostics]
        assert [list(array.shape) for array in result.outputs.values()] == case["run"]["output_shapes"]
    elif not fails_when_run(case):
        assert result.ok, [d.message for d in result.diagnostics]
    else:
        assert case_id in RUNS_AT_OTHER_SIZES
        assert [d.code for d in result.diagnostics][:1] == ["V007"], case["run"]["error"]["core_message"]
