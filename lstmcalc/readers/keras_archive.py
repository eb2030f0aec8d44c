"""Keras 3's .keras archive: a zip of config.json (the model config), metadata.json and
model.weights.h5 (the weights, read through h5py only when ``verify`` needs them).

Archives are untrusted: the member count and sizes are checked before anything is read, members
are read into memory with a bound (never extracted to disk), and the JSON depth is bounded.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ..diagnostics import Diagnostic, Problem, make
from ..spec.model import ModelSpec
from ..spec.source import Location
from .keras_json import ConfigReader, is_model_config
from .located_json import load_json

if TYPE_CHECKING:
    from numpy import ndarray

    from ..report import Report

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
MAX_MEMBERS = 64  # Keras writes three (plus assets for a few preprocessing layers)
MAX_JSON_BYTES = 32 * 1024 * 1024
MAX_WEIGHTS_BYTES = 8 * 1024 * 1024 * 1024
MAX_RATIO = 1000  # deflate reaches about 1000:1 at best; more is a zip bomb
INSTALL_HINT = "pip install 'lstmcalc[keras-files]'"


class ArchiveProblem(Exception):
    """The archive cannot be read safely; the message says why."""


def member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """One member's bytes, refused when its declared or real size exceeds ``limit`` or its
    compression ratio is beyond what deflate can do."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ArchiveProblem(f"it has no {name}") from None
    if info.file_size > limit:
        raise ArchiveProblem(f"{name} declares {info.file_size:,} bytes, more than the {limit:,} allowed")
    if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
        raise ArchiveProblem(f"{name} expands {info.file_size // info.compress_size}:1, which only a zip bomb does")
    with archive.open(info) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ArchiveProblem(f"{name} holds more than the {limit:,} bytes allowed")
    return data


def open_archive(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise ArchiveProblem(f"it is not a zip archive ({error})") from None
    if len(archive.infolist()) > MAX_MEMBERS:
        raise ArchiveProblem(f"it holds {len(archive.infolist())} members; a Keras archive has a few")
    return archive


@dataclass
class StoredWeights:
    """The weights inside a .keras archive, located by layer: ``groups`` maps each layer name to
    its group in model.weights.h5 (Keras names groups by class, ``layers/lstm_1``, not by layer
    name)."""

    file: str
    data: bytes
    groups: Dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.file} ({WEIGHTS})"

    def arrays(self, report: "Report") -> Tuple[Optional[Dict[str, "ndarray"]], List[Diagnostic]]:
        """The weights keyed ``<layer>/<weight>`` as the verifier takes them, or the problems."""
        where = Location(self.file, None, None)
        try:
            import h5py
        except ImportError:
            return None, [make("V003", f"Reading the weights stored in {self.file} needs h5py, which is not "
                                       "installed.", f"Install it with: {INSTALL_HINT} (or pass --weights W.npz).",
                               location=where)]
        try:
            archive = open_archive(self.data)
            blob = member(archive, WEIGHTS, MAX_WEIGHTS_BYTES)
            store = h5py.File(io.BytesIO(blob), "r")
        except ArchiveProblem as problem:
            return None, [make("V003", f"Cannot read the weights of {self.file}: {problem}.",
                               "Save the model again with model.save('model.keras').", location=where)]
        except OSError as error:
            return None, [make("V003", f"{self.file}: {WEIGHTS} is not an HDF5 file ({error}).",
                               "Save the model again with model.save('model.keras').", location=where)]
        with store:
            return self._read(store, report, where)

    def _read(self, store: Any, report: "Report", where: Location):
        import numpy

        arrays: Dict[str, "ndarray"] = {}
        problems: List[Diagnostic] = []
        expected_paths = set()
        for layer_report in report.layers:
            node = report.graph.nodes.get(layer_report.name) if report.graph is not None else None
            group = self.groups.get(layer_report.name)
            if node is None or node.layer is None or group is None or not layer_report.weights:
                continue
            paths = node.layer.keras_saved_paths(layer_report.weights)
            for weight, path in zip(layer_report.weights, paths):
                full = f"{group}/{path}"
                expected_paths.add(full)
                key = f"{layer_report.name}/{weight.name}"
                dataset = store.get(full)
                if dataset is None or not hasattr(dataset, "shape"):
                    problems.append(make("V003", f"{self.label} has no `{full}` for `{key}`.",
                                         "The archive's weights do not belong to its config; save the model "
                                         "again with model.save().", layer=layer_report.name, location=where))
                    continue
                if tuple(dataset.shape) != tuple(weight.shape):
                    problems.append(make(
                        "V003", f"The weight `{key}` of {layer_report.name} ({layer_report.type}) has shape "
                                f"{tuple(dataset.shape)} in {self.label} (`{full}`), but the config makes it "
                                f"{tuple(weight.shape)}.",
                        "The config and the weights disagree: the archive was edited or assembled from two "
                        "models; save the model again with model.save().", layer=layer_report.name, location=where))
                    continue
                arrays[key] = numpy.asarray(dataset[()])
        extra: List[str] = []
        store.visititems(lambda name, item: extra.append(name)
                         if hasattr(item, "shape") and name not in expected_paths
                         and name.split("/")[1:2] and f"layers/{name.split('/')[1]}" in self.groups.values()
                         else None)
        if extra:
            problems.append(make("V003", f"{self.label} holds weights its config does not make: "
                                         + ", ".join(extra[:6]) + ".",
                                 "The config and the weights disagree; save the model again with model.save().",
                                 location=where))
        return (None if problems else arrays), problems


def saved_groups(document: Any, spec: ModelSpec) -> Dict[str, str]:
    """Each layer's group in model.weights.h5: Keras numbers the groups per class, in the order
    of the model's layers (``layers/lstm``, ``layers/lstm_1``), whatever the layers are called."""
    from ..layers.factory import Namer

    namer = Namer()
    names = {layer.explicit_name for layer in spec.layers}
    groups = {}
    for entry in document["config"]["layers"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
            continue
        group = "layers/" + namer.auto(entry["class_name"])
        config = entry.get("config")
        name = config.get("name") if isinstance(config, dict) else None
        if name in names:
            groups[name] = group
    return groups


def read_keras_archive(data: bytes, file: str) -> Tuple[Optional[ModelSpec], List[Diagnostic]]:
    """A ModelSpec from the bytes of a .keras archive, with its stored weights attached."""
    config_file = f"{file}/{CONFIG}"
    try:
        archive = open_archive(data)
        text = member(archive, CONFIG, MAX_JSON_BYTES).decode("utf-8")
        weights_present = WEIGHTS in archive.namelist()
    except ArchiveProblem as problem:
        return None, [make("S017", f"{file} is not a readable Keras archive: {problem}.",
                           "Give lstmcalc the file model.save('model.keras') wrote.",
                           location=Location(file, None, None))]
    except UnicodeDecodeError:
        return None, [make("S017", f"{config_file} is not UTF-8 text.", "Save the model again with model.save().",
                           location=Location(file, None, None))]
    try:
        document = load_json(text, config_file)
    except Problem as problem:
        return None, [problem.to_diagnostic()]
    reader = ConfigReader(config_file)
    spec = reader.model(document)
    if spec is not None:
        spec.file = file
        if weights_present and is_model_config(document):
            spec.stored_weights = StoredWeights(file, data, saved_groups(document, spec))
    return spec, reader.diagnostics
