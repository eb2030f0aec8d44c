"""`lstmcalc port`'s report: what each layer became, the tensors compared and how closely they
agree, what was written; or why nothing was."""

from __future__ import annotations

from typing import List

from ..layers.frameworks import FRAMEWORKS
from . import RenderOptions
from .text import diagnostic_lines


def render_port(result, options: RenderOptions = RenderOptions()) -> str:
    source, target = FRAMEWORKS[result.report.framework], FRAMEWORKS[result.options.target]
    lines: List[str] = [f'Port "{result.report.name}" ({result.report.file}) from {source.title} to {target.title}']
    if result.layers:
        width = max(len(f"{item.source} ({item.source_type})") for item in result.layers)
        for item in result.layers:
            became = ", ".join(item.targets) if item.targets else "(nothing: part of the module before)"
            lines.append(f"  {item.source + ' (' + item.source_type + ')':{width}}  →  {became}")
    if result.comparisons:
        lines.append(f"Both forward passes on the same random input (batch {result.batch_size}"
                     + (f", {result.timesteps} steps for unknown lengths" if result.timesteps else "")
                     + f", seed {result.options.seed}):")
        width = max(len(item.source) for item in result.comparisons)
        for item in result.comparisons:
            mark = "✓" if item.largest_difference <= result.options.tolerance else "✗"
            lines.append(f"  {mark} {item.source:{width}}  =  {item.target} {tuple(item.shape)}  "
                         f"largest difference {item.largest_difference:.2g}")
    for diagnostic in result.diagnostics:
        lines += diagnostic_lines(diagnostic)
    if result.ok:
        lines.append(f"✓ The ported model computes the same outputs within {result.options.tolerance:g} "
                     f"(largest difference {result.largest_difference:.2g}).")
        written = [f"{result.output_path} ({len(result.weights)} arrays keyed "
                   f"{target.weight_key('<layer>', '<' + target.weight_word + '>')})"] if result.output_path else []
        if result.spec_path:
            written.append(result.spec_path)
        if written:
            lines.append("Wrote " + " and ".join(written) + ".")
    else:
        lines.append("✗ Nothing was written.")
    return "\n".join(lines) + "\n"


def render_port_json(result, options: RenderOptions = RenderOptions()) -> str:
    import json

    document = result.to_dict()
    document["written"] = [path for path in (result.output_path, result.spec_path) if path]
    return json.dumps(document, indent=2) + "\n"
