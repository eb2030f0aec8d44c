"""PyTorch source read with ast, never run (issue 11): every readable nn.Module of
tests/fixtures/pytorch/source/ gives what real torch 2.13 recorded with forward hooks (every
named_modules() path's shapes, named_parameters, totals), verify runs it and explain explains it;
what needs the code to run is a diagnostic at its line — never a guess."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml
from click.testing import CliRunner

from lstmcalc.api import analyze, analyze_spec
from lstmcalc.cli import cli
from lstmcalc.explain import explain
from lstmcalc.readers import read_model_bytes
from lstmcalc.readers.python_torch import SourceOptions, read_torch
from lstmcalc.verify import VerifyOptions, verify_report

from .conftest import ROOT, heavy_modules_imported

FIXTURES = ROOT / "tests" / "fixtures" / "pytorch"
SOURCE = FIXTURES / "source"
CASES = yaml.safe_load((FIXTURES / "source_cases.yaml").read_text(encoding="utf-8"))
REFERENCE = json.loads((FIXTURES / "source_reference.json").read_text(encoding="utf-8"))["cases"]
READ = [case for case in CASES if case["reader"] == "read"]
REFUSED = [case for case in CASES if case["reader"] != "read"]


def options_of(case) -> SourceOptions:
    declared = case["input"]
    shape, dtype = (declared["shape"], declared["dtype"]) if isinstance(declared, dict) else (declared, None)
    return SourceOptions(tuple(shape), dtype, case["batch_size"], case["class"])


def report_of(case):
    return analyze(SOURCE / case["file"], batch_size=case["batch_size"], bindings=case.get("kwargs") or None,
                   source=options_of(case))


def rows_by_name(report):
    return {layer.name: layer for layer in report.layers}


def assert_matches_torch(report, recorded):
    """``report`` gives what torch recorded with forward hooks (a source_reference.json case):
    totals, the input, every named_modules() path's parameters and the shapes of each of its calls."""
    assert report.ok, [d.message for d in report.errors]
    assert report.totals.params == recorded["params"]
    assert report.totals.trainable_params == recorded["trainable_params"]
    item = report.inputs[0]
    assert list(item.shape) == recorded["input"]["shape"] and f"torch.{item.dtype}" == recorded["input"]["dtype"]
    rows = rows_by_name(report)
    for module in recorded["modules"]:
        path = module["path"]
        if not path:
            continue  # the model itself
        if "repr" not in module:
            # A container (nn.Sequential): its calls are its first module's input and last one's output.
            children = [other for other in recorded["modules"] if other["path"].startswith(path + ".")
                        and "repr" in other]
            assert module["params_total"] == sum(rows[child["path"]].params for child in children)
            assert [list(shape) for shape in rows[children[-1]["path"]].output_shapes] == \
                module["calls"][0]["output_shapes"]
            continue
        assert rows[path].params == module["params_own"], path
        if not module["calls"]:
            # Assigned in __init__, never called: no shapes, parameters counted.
            assert rows[path].status == "unused" and rows[path].output_shapes is None
            assert any(d.code == "S024" and d.layer == path for d in report.diagnostics)
        for index, call in enumerate(module["calls"]):
            row = rows[path if index == 0 else f"{path}[{index}]"]
            assert [list(shape) for shape in row.output_shapes] == call["output_shapes"], (path, index)
    last = [layer for layer in report.layers if layer.status == "ok"][-1]
    assert [list(last.output_shapes[0])] == recorded["output_shapes"]
    written = {f"{layer.name}.{weight.name}": list(weight.shape) for layer in report.layers for weight in layer.weights}
    assert written == {item["name"]: item["shape"] for item in recorded["named_parameters"]}


@pytest.mark.parametrize("case", READ, ids=[case["id"] for case in READ])
def test_readable_source_gives_torchs_counts_and_shapes(case):
    report = report_of(case)
    assert report.name == case["class"]
    assert_matches_torch(report, REFERENCE[case["id"]])


@pytest.mark.parametrize("case", READ, ids=[case["id"] for case in READ])
def test_verify_runs_every_readable_source_and_explain_explains_it(case):
    report = report_of(case)
    result = verify_report(report, VerifyOptions())
    assert result.ok, [d.message for d in result.diagnostics]
    explanation = explain(report)
    assert [layer.name for layer in explanation.layers] == [layer.name for layer in report.layers]


@pytest.mark.parametrize("case", READ, ids=[case["id"] for case in READ])
def test_summary_json_of_the_source_on_the_command_line(case):
    declared = case["input"]
    arguments = ["summary", str(SOURCE / case["file"]), "--class", case["class"], "--batch-size",
                 str(case["batch_size"]), "--format", "json"]
    if isinstance(declared, dict):
        arguments += ["--input", ",".join(map(str, declared["shape"])), "--dtype", declared["dtype"]]
    else:
        arguments += ["--input", ",".join(map(str, declared))]
    for key, value in (case.get("kwargs") or {}).items():
        arguments += ["--set", f"{key}={value}"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["totals"]["params"] == REFERENCE[case["id"]]["params"]


# What the reader must refuse, where: (case id, [(code, line)]) — lines of the fixture files.
REFUSALS = {
    "layers-in-loop": [("S018", 9), ("S018", 14)],   # nn.ModuleList([... for i in range(depth)]); for lstm in ...
    "config-sizes": [("S018", 19), ("S018", 20)],    # config.input_size, config.hidden_size
    "control-flow": [("S018", 15), ("S018", 19)],    # if x.size(1) > 10; if self.training
}


@pytest.mark.parametrize("case", REFUSED, ids=[case["id"] for case in REFUSED])
def test_what_needs_the_code_to_run_is_refused_at_its_line(case):
    report = report_of(case)
    assert not report.ok
    assert [(d.code, d.line) for d in report.errors] == REFUSALS[case["id"]]
    assert all(d.file.endswith(case["file"]) and d.hint for d in report.errors)


def test_a_config_object_given_with_set_is_read():
    case = next(case for case in CASES if case["id"] == "config-sizes")
    config = {"input_size": 12, "hidden_size": 48, "num_layers": 2, "num_classes": 3}  # ModelConfig's defaults
    report = analyze(SOURCE / case["file"], bindings={"config": config}, source=options_of(case))
    assert report.ok and report.totals.params == REFERENCE["config-sizes"]["params"]


def test_required_argument_is_named_with_the_set_that_gives_it():
    case = next(case for case in CASES if case["id"] == "two-models-required-args")
    report = analyze(SOURCE / case["file"], source=options_of(case))
    assert [(d.code, d.line) for d in report.errors] == [("S018", 19)]
    assert "--set input_size=" in report.errors[0].hint


def test_several_classes_need_class():
    report = analyze(SOURCE / "two_models.py", source=SourceOptions((10, 3), None, 2))
    assert [d.code for d in report.errors] == ["S023"]
    assert "SmallRNN, RequiredArgsGRU" in report.errors[0].message and "--class SmallRNN" in report.errors[0].hint
    report = analyze(SOURCE / "two_models.py", source=SourceOptions((10, 3), None, 2, "Missing"))
    assert [d.code for d in report.errors] == ["S023"] and "not defined in this file" in report.errors[0].message


def test_the_input_shape_must_be_given():
    report = analyze(SOURCE / "lstm_forecaster.py")
    assert [(d.code, d.line) for d in report.errors] == [("S022", 16)]  # def forward
    assert "--input" in report.errors[0].hint


def read(source: str, input_shape=(7, 3), batch_size=2, dtype=None, bindings=None):
    text = source if source.startswith(HEADER) else textwrap.dedent(source)
    spec, diagnostics = read_torch(text, "model.py", bindings, SourceOptions(input_shape, dtype, batch_size))
    report = analyze_spec(spec, diagnostics=diagnostics) if spec is not None else None
    return report, diagnostics


HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"

# (id, source, [(row, type, output shape)], total params with the arithmetic) — input (2, 7, 3)
READABLE = [
    ("spellings", """
        import torch
        from torch import nn
        from torch.nn import Linear

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = torch.nn.GRU(3, 4, batch_first=True)
                self.b = Linear(4, 2)

            def forward(self, x):
                y, _ = self.a(x)
                return self.b(y)
        """, [("a", "GRU", (2, 7, 4)), ("b", "Linear", (2, 7, 2))],
     3 * (4 * (3 + 4) + 2 * 4) + (4 * 2 + 2)),
    ("functions-and-methods", HEADER + textwrap.dedent("""
        class M(nn.Module):
            def __init__(self, hidden=5):
                super().__init__()
                self.rnn = nn.LSTM(3, hidden, batch_first=True)
                self.fc = nn.Linear(7 * hidden, 4)

            def forward(self, x):
                out, (h, c) = self.rnn(x)
                out = out.relu()
                flat = out.reshape(out.shape[0], -1)
                return F.softmax(self.fc(flat), dim=1)
        """), [("rnn", "LSTM", (2, 7, 5)), ("relu", "ReLU", (2, 7, 5)), ("flat", "Flatten", (2, 35)),
              ("fc", "Linear", (2, 4)), ("softmax", "Softmax", (2, 4))],
     4 * (5 * (3 + 5) + 2 * 5) + (35 * 4 + 4)),
    ("ordered-dict-and-nested-sequential", HEADER + textwrap.dedent("""
        from collections import OrderedDict

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(OrderedDict([("proj", nn.Linear(3, 6)), ("act", nn.Tanh())]))
                self.head = nn.Sequential(nn.Sequential(nn.Linear(6, 2), nn.ReLU()), nn.Dropout(0.1))

            def forward(self, x):
                return self.head(self.body(x))
        """), [("body.proj", "Linear", (2, 7, 6)), ("body.act", "Tanh", (2, 7, 6)), ("head.0.0", "Linear", (2, 7, 2)),
              ("head.0.1", "ReLU", (2, 7, 2)), ("head.1", "Dropout", (2, 7, 2))],
     (3 * 6 + 6) + (6 * 2 + 2)),
    ("constant-branch-and-conditional-in-init", HEADER + textwrap.dedent("""
        BIDIRECTIONAL = True

        class M(nn.Module):
            def __init__(self, hidden=4, bidirectional=BIDIRECTIONAL):
                super().__init__()
                self.rnn = nn.RNN(3, hidden, batch_first=True, bidirectional=bidirectional)
                if bidirectional:
                    self.fc = nn.Linear(2 * hidden, 1)
                else:
                    self.fc = nn.Linear(hidden, 1)

            def forward(self, x):
                _, h = self.rnn(x)
                return self.fc(torch.cat([h[-2, :, :], h[-1, :, :]], -1))
        """), [("rnn", "RNN", (2, 7, 8)), ("last_step", "LastStep", (2, 8)), ("fc", "Linear", (2, 1))],
     2 * (4 * (3 + 4) + 2 * 4) + (8 + 1)),
    ("zero-states-written-out", HEADER + textwrap.dedent("""
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

        class M(nn.Module):
            def __init__(self, hidden_size=6, num_layers=2):
                super().__init__()
                self.hidden_size, self.num_layers = hidden_size, num_layers
                self.lstm = nn.LSTM(3, hidden_size, num_layers, batch_first=True)

            def forward(self, x):
                h0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size).to(device)
                c0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size).to(x.device)
                out, _ = self.lstm(x, (h0, c0))
                return out[:, -1, :]
        """), [("lstm", "LSTM", (2, 7, 6)), ("last_step", "LastStep", (2, 6))],
     4 * (6 * (3 + 6) + 2 * 6) + 4 * (6 * (6 + 6) + 2 * 6)),
    ("time-major-and-no-states", HEADER + textwrap.dedent("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(3, 6, num_layers=2)
                self.fc = nn.Linear(6, 2)

            def forward(self, x):
                out, (h_n, c_n) = self.lstm(x, None)
                return self.fc(h_n[-1])
        """), [("lstm", "LSTM", (7, 2, 6)), ("last_step", "LastStep", (2, 6)), ("fc", "Linear", (2, 2))],
     4 * (6 * (3 + 6) + 2 * 6) + 4 * (6 * (6 + 6) + 2 * 6) + (6 * 2 + 2)),
]


@pytest.mark.parametrize("source,rows,params", [case[1:] for case in READABLE], ids=[case[0] for case in READABLE])
def test_readable_forward(source, rows, params):
    report, diagnostics = read(source)
    assert report is not None and report.ok, diagnostics
    assert [(layer.name, layer.type, tuple(layer.output_shapes[0])) for layer in report.layers] == rows
    assert report.totals.params == params


# (id, source, code, line, words of the message) — each one refused at its line.
REFUSED_FORWARD = [
    ("bidirectional-h-n-last-row", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.gru = nn.GRU(3, 4, batch_first=True, bidirectional=True)

            def forward(self, x):
                _, h = self.gru(x)
                return h[-1]
        """, "S020", 12, "reverse direction's state alone"),
    ("cell-state", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(3, 4, batch_first=True)

            def forward(self, x):
                _, (h, c) = self.lstm(x)
                return c[-1]
        """, "S020", 12, "cell states"),
    ("not-a-chain", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(3, 4, batch_first=True)
                self.fc = nn.Linear(4, 1)

            def forward(self, x):
                out, _ = self.lstm(x)
                y = self.fc(out)
                return self.fc(x[:, -1, :])
        """, "S020", 14, "one chain"),
    ("scaled-by-a-number", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)

            def forward(self, x):
                return self.fc(x) * 0.5
        """, "S020", 11, "combines a tensor with `0.5`"),
    ("average-divided-wrongly", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)

            def forward(self, x):
                return (self.fc(x) + x) / 3
        """, "S020", 11, "divides a sum of 2 tensors by `3`"),
    ("helper-method", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)

            def forward(self, x):
                return self.fc(self.prepare(x))

            def prepare(self, x):
                return x
        """, "S020", 11, "self.prepare"),
    ("two-inputs", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)

            def forward(self, x, lengths):
                return self.fc(x)
        """, "S022", 10, "the shape of `lengths` is not in the code"),
    ("initial-states", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(3, 4, batch_first=True)

            def forward(self, x):
                h0 = torch.randn(1, x.size(0), 4)
                out, _ = self.lstm(x, (h0, h0))
                return out
        """, "S020", 11, "`torch.randn` is not an operation"),
    ("zero-states-of-the-wrong-shape", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.gru = nn.GRU(3, 4, num_layers=2, batch_first=True)

            def forward(self, x):
                h0 = torch.zeros(1, x.size(0), 4)
                out, _ = self.gru(x, h0)
                return out
        """, "S020", 12, "expects its state 0 to be [2, 2, 4]"),
    ("view-with-sizes", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(21, 3)

            def forward(self, x):
                return self.fc(x.view(-1, 21))
        """, "S020", 11, "view() that keeps the first axis"),
    ("last-step-of-the-wrong-axis", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(3, 4)
                self.fc = nn.Linear(4, 1)

            def forward(self, x):
                out, _ = self.lstm(x)
                out = self.fc(out)
                return out[:, -1, :]
        """, "S020", 14, "the last sample of the batch"),
    ("recurrent-module-inside-sequential", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.LSTM(3, 4), nn.Linear(4, 2))

            def forward(self, x):
                return self.body(x)
        """, "S020", 11, "which torch refuses"),
    ("bare-return", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)

            def forward(self, x):
                x = self.fc(x)
                return
        """, "S020", 12, "returns nothing"),
    ("argument-torch-refuses", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(3, 4.5, batch_first=True)

            def forward(self, x):
                out, (h, c) = self.lstm(x)
                return h[-1]
        """, "S005", 8, "hidden_size should be of type int"),
    ("module-assigned-twice", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)
                self.fc = nn.Linear(3, 2)

            def forward(self, x):
                return self.fc(x)
        """, "S020", 9, "second time"),
]


@pytest.mark.parametrize("source,code,line,words", [case[1:] for case in REFUSED_FORWARD],
                         ids=[case[0] for case in REFUSED_FORWARD])
def test_refused_forward(source, code, line, words):
    report, diagnostics = read(HEADER + textwrap.dedent(source))
    errors = [d for d in diagnostics if d.is_error] + (report.errors if report is not None else [])
    assert errors, "the source should be refused"
    assert (errors[0].code, errors[0].line) == (code, line), errors[0]
    assert words in errors[0].message


# forward() as a data-flow graph: (id, source, further inputs' shapes, [(name, type, inputs, initial
# state, output shape)], outputs) — the first input (2, 7, 3).
GRAPHS = [
    ("residual", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)

            def forward(self, x):
                return self.fc(x) + x
        """, (), [("fc", "Linear", ["x[0]"], [], (2, 7, 3)),
                  ("add", "Add", ["fc[0]", "x[0]"], [], (2, 7, 3))], ["add[0]"]),
    ("two-inputs-merged", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(3, 4, batch_first=True)
                self.fc = nn.Linear(5, 2)

            def forward(self, x, static):
                out, _ = self.lstm(x)
                both = torch.cat((out[:, -1, :], self.fc(static)), dim=-1)
                mean = (both + both) / 2
                return torch.maximum(torch.maximum(mean, both), both) - both * both
        """, ((5,),), [("lstm", "LSTM", ["x[0]"], [], (2, 7, 4)),   # 4 + 2 = 6 features joined
                       ("fc", "Linear", ["static[0]"], [], (2, 2)),  # (the index is read when used)
                       ("last_step", "LastStep", ["lstm[0]"], [], (2, 4)),
                       ("both", "Cat", ["last_step[0]", "fc[0]"], [], (2, 6)),
                       ("mean", "Average", ["both[0]", "both[0]"], [], (2, 6)),
                       ("maximum", "Maximum", ["mean[0]", "both[0]", "both[0]"], [], (2, 6)),
                       ("mul", "Mul", ["both[0]", "both[0]"], [], (2, 6)),
                       ("sub", "Sub", ["maximum[0]", "mul[0]"], [], (2, 6))], ["sub[0]"]),
    ("states-handed-on-two-heads", """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = nn.GRU(3, 4, batch_first=True)
                self.decoder = nn.GRU(3, 4, batch_first=True)
                self.head = nn.Linear(4, 1)

            def forward(self, x):
                _, h = self.encoder(x)
                out, h_n = self.decoder(x, h)
                return self.head(out), h_n
        """, (), [("encoder", "GRU", ["x[0]"], [], (2, 7, 4)),
                  ("decoder", "GRU", ["x[0]"], ["encoder[1]"], (2, 7, 4)),
                  ("head", "Linear", ["decoder[0]"], [], (2, 7, 1))], ["head[0]", "decoder[1]"]),
]


@pytest.mark.parametrize("source,more,rows,outputs", [case[1:] for case in GRAPHS], ids=[case[0] for case in GRAPHS])
def test_a_forward_that_is_a_graph_reads_as_a_graph_spec(source, more, rows, outputs):
    text = HEADER + textwrap.dedent(source)
    spec, diagnostics = read_torch(text, "model.py", None, SourceOptions((7, 3), None, 2, more_inputs=more))
    assert spec is not None and spec.functional, diagnostics
    report = analyze_spec(spec, diagnostics=diagnostics)
    assert report.ok, report.errors
    assert [(layer.name, layer.type, layer.inputs, layer.initial_state, layer.output_shapes[0])
            for layer in report.layers] == rows
    assert report.outputs == outputs


def test_an_unused_result_of_a_graph_is_refused():
    report, diagnostics = read(HEADER + textwrap.dedent("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 3)

            def forward(self, x):
                y = self.fc(x)
                return x + x
        """))
    assert [(d.code, d.line) for d in diagnostics if d.is_error] == [("S020", 12)]
    assert "computes fc (Linear) and neither uses nor returns it" in diagnostics[0].message


def test_literal_last_index_after_a_bidirectional_module_is_a_select():
    report, _ = read(HEADER + textwrap.dedent("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.gru = nn.GRU(3, 4, batch_first=True, bidirectional=True)

            def forward(self, x):
                out, _ = self.gru(x)
                return out[:, -1, :]
        """))
    # The reverse half of out[:, -1, :] has read one step: not LastStep, but x.select(1, -1).
    assert [(layer.name, layer.type, layer.config.get("dim"), layer.config.get("index"))
            for layer in report.layers[1:]] == [("select", "Select", 1, -1)]


def test_token_ids_are_int64_when_the_input_goes_into_an_embedding():
    report, _ = read(HEADER + textwrap.dedent("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(100, 8)

            def forward(self, tokens):
                return self.embedding(tokens)
        """), input_shape=(5,))
    assert (report.inputs[0].name, report.inputs[0].dtype, report.inputs[0].shape) == ("tokens", "int64", (2, 5))


def test_a_file_importing_both_frameworks_is_read_as_the_one_whose_model_it_defines():
    source = HEADER + "import keras\n" + textwrap.dedent("""
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 1)

            def forward(self, x):
                return self.fc(x)
        """)
    spec, diagnostics = read_model_bytes(source.encode(), "model.py", options=SourceOptions((3,), None, 2))
    assert spec is not None and spec.framework == "pytorch"
    assert [d.code for d in diagnostics] == ["S025"] and "reads it as PyTorch" in diagnostics[0].message


def test_summary_of_a_pytorch_source_does_not_import_numpy():
    arguments = ["summary", str(SOURCE / "conv_lstm.py"), "--input", "128,9", "--batch-size", "8"]
    assert heavy_modules_imported(arguments, ("numpy",)) == "clean"


def test_verify_takes_the_sample_shape_of_a_source():
    result = CliRunner().invoke(cli, ["verify", str(SOURCE / "time_major_lstm.py"), "--input", "25,20",
                                      "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    assert "(25, 4, 20)" in result.output


def test_class_is_for_python_sources():
    result = CliRunner().invoke(cli, ["summary", str(ROOT / "specs" / "pytorch_forecaster.yaml"), "--class", "M"])
    assert result.exit_code == 2 and "--class picks the nn.Module class" in result.output


# -- the spec format of what the reader makes: containers and modules forward() never calls ------

CONTAINER_SPEC = """
framework: pytorch
batch_size: 16
input: [128, 6]
layers:
  - {type: LSTM, name: lstm, hidden_size: 100, batch_first: true}
  - {type: LastStep, name: last}
  - type: Sequential
    name: head
    layers:
      - {type: Linear, out_features: 50}
      - {type: ReLU}
      - {type: Linear, name: out, out_features: 5}
  - {type: Linear, name: attention, in_features: 100, out_features: 1, called: false}
"""


def test_a_container_in_a_spec_names_its_modules_by_path_and_an_uncalled_module_counts():
    from lstmcalc.api import analyze_text

    report = analyze_text(CONTAINER_SPEC, file="model.yaml")
    assert report.ok, report.errors
    assert [(layer.name, layer.status, layer.params) for layer in report.layers] == [
        ("lstm", "ok", 4 * (100 * (6 + 100) + 2 * 100)), ("last", "ok", 0),
        ("head.0", "ok", 100 * 50 + 50), ("head.1", "ok", 0), ("head.out", "ok", 50 * 5 + 5),
        ("attention", "unused", 100 * 1 + 1)]
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("S024", 14, 5)]
    assert report.outputs == ["head.out[0]"]
    assert verify_report(report, VerifyOptions()).ok


@pytest.mark.parametrize("text,code,words", [
    ("input: [5, 3]\nlayers:\n  - {type: Dense, units: 2, called: false}\n", "S004", "a Keras model leaves out"),
    ("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n  - {type: Sequential, name: head}\n", "S007",
     "needs its modules"),
    ("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n  - {type: Linear, out_features: 2, called: 0}\n",
     "S005", "true or false"),
    ("framework: pytorch\nbatch_size: 2\ninput: [5, 3]\nlayers:\n  - {type: Linear, out_features: 2}\n"
     "  - {type: Linear, out_features: 2, called: false}\n", "S007", "cannot be counted"),
], ids=["keras", "empty-container", "not-a-boolean", "size-left-to-the-input"])
def test_spec_errors_of_containers_and_uncalled_modules(text, code, words):
    from lstmcalc.api import analyze_text

    report = analyze_text(text, file="model.yaml")
    assert [d.code for d in report.errors] == [code] and words in report.errors[0].message


def test_a_class_deriving_from_another_module_class_gets_its_modules_and_methods():
    source = textwrap.dedent("""
        import torch.nn as nn

        class Base(nn.Module):
            def __init__(self, hidden=8):
                super().__init__()
                self.lstm = nn.LSTM(3, hidden, batch_first=True)

            def forward(self, x):
                out, _ = self.lstm(x)
                return self.head(out[:, -1, :])

        class Forecaster(Base):
            def __init__(self, horizon=4):
                super().__init__(hidden=16)
                self.head = nn.Linear(16, horizon)

        class Helper(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = Forecaster()

            def forward(self, x):
                return self.inner(x)
        """)
    spec, diagnostics = read_torch(source, "model.py", None, SourceOptions((5, 3), None, 2, "Forecaster"))
    report = analyze_spec(spec, diagnostics=diagnostics)
    # LSTM(3, 16): 4 × (16 × (3 + 16) + 2 × 16); Linear(16, 4): 16 × 4 + 4.
    assert [(layer.name, layer.params) for layer in report.layers] == [
        ("lstm", 4 * (16 * 19 + 32)), ("last_step", 0), ("head", 68)]
    spec, diagnostics = read_torch(source, "model.py", None, SourceOptions((5, 3), None, 2, "Helper"))
    assert spec is None and [(d.code, d.line) for d in diagnostics] == [("S020", 21)]
    assert "class Forecaster defined in this file" in diagnostics[0].message


def test_diagram_of_a_source_shows_a_module_forward_never_calls():
    result = CliRunner().invoke(cli, ["diagram", str(SOURCE / "helper_and_unused.py"), "--input", "60,5",
                                      "--batch-size", "8", "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    assert '["<b>attention</b> (Linear)<br/><i>never called</i>"]' in result.output


ROUND_TRIP = ROOT / "tests" / "fixtures" / "pytorch" / "round_trip"


@pytest.mark.parametrize("name", ["two_head", "two_input_concatenate", "bidirectional_encoder_decoder",
                                  "bidirectional_stack", "keras_files_merges", "keras_files_seq2seq"])
def test_the_command_in_the_header_of_a_converted_graph_reads_it_back(name):
    """`Read it back with: lstmcalc summary <this file> --input "a;b" --batch-size 2`: torch's counts
    (round_trip.json, recorded running the code), and its YAML reads as the same graph."""
    text = (ROUND_TRIP / f"{name}.py").read_text(encoding="utf-8")
    flags = next(line for line in text.splitlines() if line.startswith("Read it back with:")).split("<this file> ")[1]
    arguments = [part.strip('"') for part in flags.split(" ")]
    recorded = json.loads((ROOT / "tests" / "fixtures" / "pytorch" / "round_trip.json").read_text(encoding="utf-8"))
    params = next(case["params"] for case in recorded["cases"].values() if case.get("code") == text)
    result = CliRunner().invoke(cli, ["summary", str(ROUND_TRIP / f"{name}.py"), *arguments, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["totals"]["params"] == params and document["kind"] == "functional"
    converted = CliRunner().invoke(cli, ["convert", str(ROUND_TRIP / f"{name}.py"), "--to", "yaml", *arguments])
    assert converted.exit_code == 0, converted.output
    spec = yaml.safe_load(converted.output)
    assert spec["framework"] == "pytorch" and spec["outputs"] and len(spec["inputs"]) == flags.count(";") + 1
