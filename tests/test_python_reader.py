"""Keras Python source read with ast, never run: what resolves statically gives Keras's figures,
what does not is an S018 (or S020) at its line and column — never a guess."""

from __future__ import annotations

import textwrap

import pytest

from lstmcalc.api import analyze_spec
from lstmcalc.readers.python_keras import read_python

from .conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "keras_files"


def read(source: str):
    spec, diagnostics = read_python(textwrap.dedent(source), "model.py")
    report = analyze_spec(spec, diagnostics=diagnostics) if spec is not None else None
    return report, diagnostics


# (id, source, total params with the arithmetic)
RESOLVED = [
    ("constants-and-arithmetic", """
        import keras
        from keras import layers
        units = 32
        features = 16
        model = keras.Sequential([keras.Input((10, features // 2)), layers.LSTM(units * 2), layers.Dense(1)])
        """, 4 * (64 * (8 + 64) + 64) + (64 + 1)),
    ("add-chain-tf-keras-spelling", """
        import tensorflow as tf
        model = tf.keras.models.Sequential()
        model.add(tf.keras.layers.LSTM(20, input_shape=(5, 3), return_sequences=True))
        model.add(tf.keras.layers.GRU(10))
        model.add(tf.keras.layers.Dense(2, activation="softmax"))
        model.compile(optimizer="adam", loss="mse")
        """, 4 * (20 * (3 + 20) + 20) + 3 * (10 * (20 + 10) + 2 * 10) + (10 * 2 + 2)),
    ("import-alias", """
        from keras.layers import LSTM as RecurrentLayer, Dense
        from keras.models import Sequential
        model = Sequential([RecurrentLayer(4, input_shape=(7, 2)), Dense(1)])
        """, 4 * (4 * (2 + 4) + 4) + 5),
    ("function-with-defaults", """
        from keras import Sequential, Input, layers

        def build_model(timesteps=50, features=10, units=64):
            model = Sequential()
            model.add(Input(shape=(timesteps, features)))
            model.add(layers.LSTM(units))
            model.add(layers.Dense(1))
            return model

        model = build_model(units=8)
        """, 4 * (8 * (10 + 8) + 8) + 9),
    ("main-guard-and-lowercase-merge", """
        import keras
        from keras import layers

        if __name__ == "__main__":
            a = keras.Input((6, 4))
            b = keras.Input((6, 4))
            x = layers.concatenate([layers.LSTM(3)(a), layers.GRU(3)(b)], axis=-1)
            model = keras.Model([a, b], layers.Dense(1)(x))
            model.summary()
        """, 4 * (3 * (4 + 3) + 3) + 3 * (3 * (4 + 3) + 2 * 3) + (6 + 1)),
    ("data-loading-ignored-when-unused", """
        import numpy as np
        import keras
        X = np.load("train.npy")
        n_classes = len(set(X[:, 0]))
        model = keras.Sequential([keras.Input((12, 3)), keras.layers.SimpleRNN(5), keras.layers.Dense(2)])
        """, (5 * (3 + 5) + 5) + (5 * 2 + 2)),
    ("preprocessing-around-the-model", """
        import pandas as pd
        from sklearn.preprocessing import MinMaxScaler
        from keras.models import Sequential
        from keras.layers import LSTM, Dense
        frame = pd.read_csv("prices.csv")
        scaler = MinMaxScaler(feature_range=(0, 1))
        scaled = scaler.fit_transform(frame[["close"]].values)
        look_back = 60
        model = Sequential([LSTM(50, input_shape=(look_back, 1)), Dense(1)])
        """, 4 * (50 * (1 + 50) + 50) + 51),
    ("using-the-model-after-building-it", """
        import numpy as np
        from keras.models import Sequential
        from keras.layers import LSTM, Dense
        n_steps, n_features = 3, 1
        model = Sequential()
        model.add(LSTM(50, activation="relu", input_shape=(n_steps, n_features)))
        model.add(Dense(1))
        model.fit(X, y, epochs=200, verbose=0)
        x_input = np.array([70, 80, 90]).reshape((1, n_steps, n_features))
        yhat = model.predict(x_input, verbose=0)
        """, 4 * (50 * (1 + 50) + 50) + 51),
    ("layer-object-called-later", """
        import keras
        from keras import layers
        head = layers.Dense(1, name="head")
        inputs = keras.Input((8, 2))
        outputs = head(layers.LSTM(4)(inputs))
        model = keras.Model(inputs=inputs, outputs=outputs)
        """, 4 * (4 * (2 + 4) + 4) + 5),
    ("bare-names-as-in-seed-001", (FIXTURES / "seed_001_block.py").read_text(), 137217),
    ("shared-layer", """
        import keras
        a = keras.Input((4, 2))
        b = keras.Input((4, 2))
        encoder = keras.layers.LSTM(3)
        model = keras.Model([a, b], keras.layers.Add()([encoder(a), encoder(b)]))
        """, 4 * (3 * (2 + 3) + 3)),
    ("nested-sequential-in-sequential", """
        import keras
        from keras import layers
        encoder = keras.Sequential([layers.LSTM(6, return_sequences=True), layers.LSTM(4)])
        model = keras.Sequential([keras.Input((9, 2)), encoder, layers.Dense(1)])
        """, 4 * (6 * (2 + 6) + 6) + 4 * (4 * (6 + 4) + 4) + 5),
]


@pytest.mark.parametrize("source, params", [case[1:] for case in RESOLVED], ids=[case[0] for case in RESOLVED])
def test_resolved_sources_give_kerass_figures(source, params):
    report, diagnostics = read(source)
    assert report is not None and report.ok, diagnostics
    assert report.totals.params == params


# (id, source, code, line, column, words in the message)
UNRESOLVED = [
    ("size-read-from-data", """
        import numpy as np
        from keras import Sequential, Input, layers
        X = np.load("train.npy")
        n_features = X.shape[2]
        model = Sequential([Input((50, n_features)), layers.LSTM(8)])
        """, "S018", 6, 32, "`n_features` is set on line 5 from `X.shape[2]`, which is only known when the code runs"),
    ("layers-added-in-a-loop", """
        from keras import Sequential, Input, layers
        model = Sequential([Input((50, 3))])
        for units in (64, 32):
            model.add(layers.LSTM(units, return_sequences=True))
        """, "S018", 5, 5, "inside a `for` loop"),
    ("undefined-name", """
        from keras import Sequential, Input, layers
        model = Sequential([Input((50, 3)), layers.LSTM(hidden)])
        """, "S018", 3, 49, "`hidden` is not defined"),
    ("function-parameter-without-value", """
        from keras import Sequential, Input, layers
        def build(units):
            return Sequential([Input((5, 2)), layers.Dense(units)])
        model = build()
        """, "S018", 4, 52, "without a value for its parameter `units`"),
    ("two-models", """
        from keras import Sequential, Input, layers
        encoder = Sequential([Input((5, 2)), layers.LSTM(4)])
        decoder = Sequential([Input((5, 2)), layers.GRU(4)])
        """, "S018", 4, 11, "several models (`encoder`, `decoder`)"),
    ("subclassed-model", """
        import keras
        class Forecaster(keras.Model):
            def __init__(self):
                super().__init__()
                self.lstm = keras.layers.LSTM(8)
        """, "S018", None, None, "No Keras model found"),
    ("syntax-error", "model = Sequential([LSTM(4)\n", "S018", 1, 20, "does not parse"),
    ("wrapped-layer-also-called", """
        import keras
        x = keras.Input((4, 2))
        inner = keras.layers.LSTM(3)
        wrapped = keras.layers.Bidirectional(inner)
        model = keras.Model(x, keras.layers.Add()([wrapped(x), inner(x)]))
        """, "S020", 6, 56, "already the layer of a wrapper"),
]


@pytest.mark.parametrize("source, code, line, column, words", [case[1:] for case in UNRESOLVED],
                         ids=[case[0] for case in UNRESOLVED])
def test_what_needs_running_is_a_located_diagnostic(source, code, line, column, words):
    report, diagnostics = read(source)
    found = [(d.code, d.line, d.column) for d in diagnostics if d.code == code]
    assert (code, line, column) in found, diagnostics
    finding = next(d for d in diagnostics if (d.code, d.line, d.column) == (code, line, column))
    assert words in finding.message and finding.hint
    assert report is None or not report.ok


def test_the_source_is_never_run(tmp_path):
    marker = tmp_path / "ran"
    source = f"""
        import keras
        open({str(marker)!r}, "w").write("executed")
        raise SystemExit("executed")
        model = keras.Sequential([keras.Input((3, 2)), keras.layers.Dense(1)])
        """
    report, _ = read(source)
    assert not marker.exists()
    assert report is not None and report.totals.params == 3


def test_seed_000_first_block_is_kerass_rejection_with_its_fix():
    report, _ = read((FIXTURES / "seed_000_block1.py").read_text())
    error = report.errors[0]
    assert (error.code, error.layer, error.line, error.column) == ("H001", "lstm_1", 6, 5)
    assert "Input 0 of layer 'lstm_1' is incompatible with the layer: expected ndim=3, found ndim=2." in error.message
    assert "return_sequences: true" in error.hint


def test_seed_000_second_block_runs_as_written():
    report, _ = read((FIXTURES / "seed_000_block2.py").read_text())
    # LSTM(50) on 5 features: 4 × (50 × (5 + 50) + 50) = 11,200; Dense(10): 510; Dense(1): 11.
    assert report.ok and report.totals.params == 11200 + 510 + 11


def test_keras_default_names_follow_construction_order():
    report, _ = read("""
        import keras
        from keras import layers
        first = layers.Dense(2)
        second = layers.Dense(3)
        x = keras.Input((4,))
        model = keras.Model(x, first(second(x)))
        """)
    # Keras names layers when they are constructed, not when they are called.
    assert [(layer.name, layer.params) for layer in report.layers] == [("dense_1", 4 * 3 + 3), ("dense", 3 * 2 + 2)]


def test_set_gives_what_the_source_cannot(tmp_path):
    from click.testing import CliRunner

    from lstmcalc.cli import cli

    source = FIXTURES / "data_dependent.py"
    result = CliRunner().invoke(cli, ["summary", str(source)])
    assert result.exit_code == 1 and "--set timesteps=10" in result.output
    result = CliRunner().invoke(cli, ["summary", str(source), "--set", "timesteps=50", "--set", "features=10"])
    # LSTM(64) on 10 features: 4 × (64 × (10 + 64) + 64) = 19,200; Dense(1): 65.
    assert result.exit_code == 0 and "Total params: 19,265" in result.output
    result = CliRunner().invoke(cli, ["summary", str(ROOT / "specs" / "seq2seq.yaml"), "--set", "units=3"])
    assert result.exit_code == 2 and "--set binds names of Python source" in result.output


def test_set_binds_a_function_parameter():
    spec, diagnostics = read_python("from keras import Sequential, Input, layers\n"
                                    "def build(units):\n"
                                    "    return Sequential([Input((5, 2)), layers.Dense(units)])\n"
                                    "model = build()\n", "model.py", {"units": 4})
    assert analyze_spec(spec, diagnostics=diagnostics).totals.params == 2 * 4 + 4
