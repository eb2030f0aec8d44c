#!/usr/bin/env python3
"""Record whether REAL Keras 3 can run the models it builds, for lstmcalc's build-but-fail rules.

Reads  tests/fixtures/keras/run_cases.yaml   (list of {id, note, spec, batch?})
Writes tests/fixtures/keras/run_reference.json

Each case is built as scripts/record_keras_reference.py builds it (whose helpers it reuses), then
called on zeros of the input's shape (`batch` samples, default 2; unknown lengths 3) with
`model.predict`. Recorded per case: `built`, `ran`, the output shapes when it ran, and the error's
type and core message when building or running failed. lstmcalc must reject (as an error) every
model Keras builds but cannot run, and accept every model it runs.

    TF_CPP_MIN_LOG_LEVEL=3 /tmp/kerasenv/bin/python scripts/record_keras_runs.py
"""

import importlib.util
import json
import os
import sys
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("record_keras_reference",
                                               os.path.join(HERE, "record_keras_reference.py"))
base = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(base)  # sets PYTHONHASHSEED (re-exec), imports keras

keras = base.keras
np = base.np
DEFAULT_CASES = os.path.join(base.ROOT, "tests", "fixtures", "keras", "run_cases.yaml")
DEFAULT_OUT = os.path.join(base.ROOT, "tests", "fixtures", "keras", "run_reference.json")
UNKNOWN_LENGTH = 3


def run_case(case):
    built = base.run_case(case)
    result = {"note": case.get("note"), "spec": case["spec"], "built": built["ok"] and built["built"],
              "ran": False, "output_shapes": None, "error": built["error"]}
    if not result["built"]:
        return result
    keras.backend.clear_session()
    shape, dtype, _ = base.parse_input(case["spec"])
    model = keras.Sequential([keras.Input(shape=shape, dtype=dtype)]
                             + [base.build_layer(entry) for entry in case["spec"]["layers"]])
    batch = case.get("batch", 2)
    data = np.zeros((batch,) + tuple(UNKNOWN_LENGTH if dim is None else dim for dim in shape), dtype or "float32")
    try:
        outputs = model.predict(data, verbose=0)
    except Exception as exc:  # noqa: BLE001
        result["error"] = base.error_record("run", None, exc)
        return result
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    result["ran"] = True
    result["output_shapes"] = [list(output.shape) for output in outputs]
    return result


def main(argv=None):
    args, cases = base.parse_arguments(__doc__.splitlines()[0], DEFAULT_CASES, DEFAULT_OUT, argv)
    document = {"keras_version": keras.__version__, "tensorflow_version": base.tf.__version__,
                "backend": keras.backend.backend(), "cases": {case["id"]: run_case(case) for case in cases}}
    text = json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    if args.only:  # explore: print the cases, keep the file
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
