"""A read model as the other framework's model, by its layers' own port rules (``port_to``,
lstmcalc.layers.porting): what the Keras and PyTorch code writers write for a model of the other
framework. What has no equivalent is refused with the layer's reason."""

from __future__ import annotations

from typing import List

from ..layers.frameworks import FRAMEWORKS
from ..report import Report
from . import NotConvertible


def graph_features(report: Report) -> str:
    """What makes a graph more than a chain: ``2 inputs, a merge (merged), initial states``."""
    features = []
    if len(report.inputs) > 1:
        features.append(f"{len(report.inputs)} inputs")
    if len(report.graph.outputs) > 1:
        features.append(f"{len(report.graph.outputs)} outputs")
    merges = [layer.name for layer in report.layers if len(layer.inputs) > 1]
    if merges:
        features.append(f"merges ({', '.join(merges)})")
    if any(layer.initial_state for layer in report.layers):
        features.append("initial states")
    return ", ".join(features) or "its layers do not take one another's results in order"


def layer_refusals(report: Report, target: str) -> List[str]:
    """What each layer of a graph says when asked for its ``target`` equivalent on its own."""
    from ..compute import built_layer, input_tensors
    from ..diagnostics import Problem
    from ..layers.porting import PortPlan

    reasons = []
    for record in report.layers:
        try:
            built_layer(report, record.name).port_to(target, input_tensors(report, record),
                                                     PortPlan(report.framework, target))
        except Problem as problem:
            reasons.append(problem.message)
    return reasons


def ported_report(report: Report, target: str) -> Report:
    """``report``'s model as the ``target`` framework's spec its layers port to, analysed."""
    import yaml

    from ..api import analyze_text
    from ..port import ported_spec

    source, title = FRAMEWORKS[report.framework].title, FRAMEWORKS[target].title
    if not report.ok:
        first = report.errors[0]
        raise NotConvertible(f"{source} rejects the model ({first.code}: {first.message}), so it has no {title} "
                             "equivalent to write.")
    from ..port import is_chain

    if report.functional and not is_chain(report):
        refusals = "".join(f" {reason}" for reason in layer_refusals(report, target))
        raise NotConvertible(f"it is a graph ({graph_features(report)}); lstmcalc writes a {source} model as {title} "
                             f"code when its layers form one chain, each taking the result of the one before."
                             + (f" Besides:{refusals}" if refusals else ""))
    result = ported_spec(report, target)
    if result.spec is None:
        raise NotConvertible("; ".join(diagnostic.message for diagnostic in result.diagnostics) or
                             f"lstmcalc cannot port it to {title}.")
    # Each layer's name after its arguments, as code writes it.
    layers = [{key: value for key, value in entry.items() if key != "name"} | {"name": entry["name"]}
              if "name" in entry else entry for entry in result.spec["layers"]]
    ported = analyze_text(yaml.safe_dump({**result.spec, "layers": layers}, sort_keys=False), file=report.spec.file)
    if not ported.ok:
        raise NotConvertible(f"its {title} equivalent does not analyse: "
                             + "; ".join(diagnostic.message for diagnostic in ported.errors))
    return ported
