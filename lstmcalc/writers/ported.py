"""A read model as the other framework's model, by its layers' own port rules (``port_to``,
lstmcalc.layers.porting): what the Keras and PyTorch code writers write for a model of the other
framework. What has no equivalent is refused with the layer's reason."""

from __future__ import annotations

from ..layers.frameworks import FRAMEWORKS
from ..report import Report
from . import NotConvertible


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
