"""Writers: a read model (its Report) written out as another source — a YAML spec, Keras or
PyTorch Python code. ``WRITERS`` is the registry ``lstmcalc convert --to`` chooses from; targets that are
planned but not written yet are in ``PLANNED`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict

from ..report import Report


class NotConvertible(Exception):
    """The model cannot be expressed in the target; the message names what and why."""


@dataclass(frozen=True)
class Writer:
    name: str
    suffix: str
    write: Callable[[Report], str]
    description: str


def _yaml(report: Report) -> str:
    from .yaml_spec import write_yaml

    return write_yaml(report)


def _keras(report: Report) -> str:
    from .keras_code import write_keras

    return write_keras(report)


def _pytorch(report: Report) -> str:
    from .torch_code import write_pytorch

    return write_pytorch(report)


WRITERS: Dict[str, Writer] = {
    "yaml": Writer("yaml", ".yaml", _yaml, "an lstmcalc spec file"),
    "keras": Writer("keras", ".py", _keras, "Keras 3 Python code (Sequential or functional)"),
    "pytorch": Writer("pytorch", ".py", _pytorch, "PyTorch code (an nn.Module with __init__ and forward)"),
}

PLANNED: Dict[str, str] = {}
