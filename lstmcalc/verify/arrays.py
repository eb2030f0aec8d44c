"""Array files for the verifier: weights and inputs given as .npz / .npy (checked against the
model before anything runs), and the outputs written back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Optional

from ..diagnostics import make
from ..layers import frameworks
from ..layers.base import numpy_module
from ..report import Report
from ..shapes import format_shape
from ..spec.source import Location
from ..suggest import closest
from .result import VerifyOptions, VerifyResult

if TYPE_CHECKING:
    from numpy import ndarray


@dataclass
class ArrayContext:
    """What reading the given arrays needs: the model, the options, where findings go."""

    report: Report
    options: VerifyOptions
    diagnostics: list

    def problem(self, code: str, message: str, hint: str = "", *, layer: Optional[str] = None,
                 location: Optional[Location] = None) -> None:
        self.diagnostics.append(make(code, message, hint, layer=layer,
                                     location=location or Location(self.report.file, None, None)))


def save_outputs(result: VerifyResult, path: str) -> None:
    """Write the model's outputs to a .npz keyed as ``output_names`` (raises OSError)."""
    np = numpy_module()
    with open(path, "wb") as handle:
        np.savez(handle, **result.outputs)
    result.output_path = path


def given_weights(context: "ArrayContext") -> Optional[Dict[str, "ndarray"]]:
    path = context.options.weights_path
    given = context.options.weights
    stored = getattr(context.report.spec, "stored_weights", None)
    if given is None and path is None and stored is not None:
        # The weights saved with the model (a .keras archive).
        given, problems = stored.arrays(context.report)
        context.diagnostics.extend(problems)
        if given is None:
            return None
        path = stored.label
    if given is None and path is None:
        return None
    if given is None:
        given = load_arrays(context, path, "V003", "weights")
        if given is None:
            return None
        if not isinstance(given, dict):
            context.problem("V003", f"{path} holds one array; the weights are several, named.",
                            "Save them with numpy.savez('weights.npz', **weights), keyed "
                            f"{frameworks.framework(context.report.framework).weight_key('<layer>', '<weight>')} "
                            "(see the export recipe in docs/guides/verify.md).", location=Location(path, None, None))
            return None
    given = {key: numpy_module().asarray(value) for key, value in given.items()}
    framework = frameworks.framework(context.report.framework)
    expected = {framework.weight_key(layer.name, weight.name): (layer, weight) for layer in context.report.layers
                for weight in layer.weights}
    where = Location(path, None, None) if path else None
    missing = [key for key in expected if key not in given]
    extra = [key for key in given if key not in expected]
    if missing:
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        context.problem("V003", f"The weights{_in(path)} lack {len(missing)} of the model's "
                                f"{len(expected)} weight(s): {shown}.",
                        framework.weights_hint, location=where)
    if extra:
        suggestion = closest(extra[0], list(expected))
        context.problem("V003", f"The weights{_in(path)} have {len(extra)} key(s) the model does not: "
                                + ", ".join(extra[:6]) + ".",
                        (f"Did you mean `{suggestion}` for `{extra[0]}`? " if suggestion else "")
                        + "The weights must come from a model with the same layers and names.",
                        location=where)
    for key, (layer, weight) in expected.items():
        if key in given and tuple(given[key].shape) != tuple(weight.shape):
            context.problem("V003", f"`{key}` has shape {format_shape(given[key].shape)}{_in(path)}; "
                                    f"{layer.name} ({layer.type}) needs {format_shape(weight.shape)}.",
                            "Export the weights from a model built with the same spec (same units, "
                            "input features and layer types).", layer=layer.name, location=where)
    if context.diagnostics:
        return None
    return dict(given)


def given_inputs(context: "ArrayContext") -> Optional[Dict[str, "ndarray"]]:
    path = context.options.input_path
    given = context.options.inputs
    if given is None and path is None:
        return None
    names = [item.name for item in context.report.inputs]
    where = Location(path, None, None) if path else None
    if given is None:
        loaded = load_arrays(context, path, "V004", "input")
        if loaded is None:
            return None
        if not isinstance(loaded, dict):
            if len(names) != 1:
                context.problem("V004", f"{path} holds one array, but the model has {len(names)} inputs "
                                        f"({', '.join(names)}).",
                                "Save the inputs in a .npz keyed by input name: "
                                "np.savez('x.npz', " + ", ".join(f"{n}=..." for n in names) + ").",
                                location=where)
                return None
            loaded = {names[0]: loaded}
        elif len(names) == 1 and list(loaded) == ["arr_0"]:
            loaded = {names[0]: loaded["arr_0"]}  # np.savez('x.npz', x) keys it arr_0
        given = loaded
    given = {key: numpy_module().asarray(value) for key, value in given.items()}
    missing = [name for name in names if name not in given]
    extra = [key for key in given if key not in names]
    if missing or extra:
        context.problem("V004", f"The input arrays{_in(path)} are keyed {sorted(given)}; the model's inputs "
                                f"are {names}, so the keys must be {names}.",
                        "Key each array by its input's name: np.savez('x.npz', "
                        + ", ".join(f"{name}=..." for name in names) + ")"
                        + (", or save the one array unnamed: np.savez('x.npz', x)." if len(names) == 1 else "."),
                        location=where)
        return None
    batches = set()
    for item in context.report.inputs:
        array = given[item.name]
        fits = array.ndim == len(item.shape) and all(
            dim is None or dim == actual for dim, actual in zip(item.shape, array.shape))
        if not fits:
            if array.ndim != len(item.shape):
                hint = (f"Give an array of rank {len(item.shape)}, batch axis "
                        f"{'first' if item.batch_axis == 0 else 'second (time major)'}.")
            else:
                axis = next(axis for axis, (dim, actual) in enumerate(zip(item.shape, array.shape))
                            if dim is not None and dim != actual)
                hint = (f"Axis {axis} has length {array.shape[axis]}, the model fixes it to {item.shape[axis]}: "
                        "give arrays of that length (or make the spec's length null).")
            context.problem("V004", f"Input `{item.name}` has shape {format_shape(array.shape)}{_in(path)}; "
                                    f"the model takes {format_shape(item.shape)} (None: any size).",
                            hint, location=where)
        batches.add(array.shape[item.batch_axis] if array.ndim > item.batch_axis else None)
    if len(batches) > 1:
        context.problem("V004", f"The input arrays have different batch sizes: {sorted(batches)}.",
                        "Give every input the same number of samples.", location=where)
    return None if context.diagnostics else dict(given)


def load_arrays(context: "ArrayContext", path: str, code: str, what: str):
    np = numpy_module()
    from ..spec.files import array_file_problem

    problem = array_file_problem(path)
    if problem is not None:
        context.problem(code, f"Cannot read the {what} file {path}: {problem}",
                        "Save the arrays with numpy.save (.npy) or numpy.savez (.npz).",
                        location=Location(path, None, None))
        return None
    try:
        loaded = np.load(path, allow_pickle=False)
        if hasattr(loaded, "files"):
            with loaded:
                return {key: loaded[key] for key in loaded.files}
        return loaded
    except (OSError, ValueError, EOFError) as error:
        context.problem(code, f"Cannot read the {what} file {path}: {error}",
                        "Save the arrays with numpy.save (.npy) or numpy.savez (.npz), without Python "
                        "objects.", location=Location(path, None, None))
    except Exception as error:  # zipfile.BadZipFile and friends: the file is not what it claims
        context.problem(code, f"Cannot read the {what} file {path}: {type(error).__name__}: {error}",
                        "Save the arrays with numpy.save (.npy) or numpy.savez (.npz).",
                        location=Location(path, None, None))
    return None


def _in(path: Optional[str]) -> str:
    return f" in {path}" if path else ""
