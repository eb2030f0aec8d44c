"""`lstmcalc explain`: Explain each layer."""

from __future__ import annotations

import sys

import click

from ..cli import (EXIT_OK, EXIT_INVALID, emit, ANY_PATH, AT_LEAST_ONE, SET_OPTION, CLASS_OPTION,
                   DTYPE_OPTION, load_report, FRAMEWORK_OPTION, comma_list)
from ..render import EXPLAIN_RENDERERS, EXPLAIN_SECTIONS, RenderOptions, get_renderer


@click.command()
@click.argument("arguments", nargs=-1, metavar="SPEC [LAYER...] | --input SHAPE LAYER...",
                type=ANY_PATH)
@click.option("--input", "input_shape", metavar="SHAPE",
              help="Build the model from the command line, as for summary; pick layers with --layer.")
@click.option("--layer", "layers", multiple=True, metavar="NAME",
              help="Explain only this layer (repeatable); with a spec file, names may also follow it.")
@click.option("--batch-size", type=AT_LEAST_ONE, help="Batch size (overrides the spec's).")
@click.option("--name", help="Model name for a model built with --input.")
@DTYPE_OPTION
@click.option("--show", "sections", metavar="LIST",
              callback=comma_list(EXPLAIN_SECTIONS, (), "section", "--show equations,outputs"),
              help="Only these sections, comma-separated: " + ", ".join(EXPLAIN_SECTIONS)
                   + " (default: all; a rejection is always shown; JSON always has everything).")
@click.option("--format", "output_format", type=click.Choice(list(EXPLAIN_RENDERERS)), default="text",
              show_default=True, help="Output format.")
@SET_OPTION
@CLASS_OPTION
@FRAMEWORK_OPTION
def explain(arguments, input_shape, layers, batch_size, name, dtype, sections, output_format, bindings,
            class_name, framework):
    """Explain each layer: its equations with the dimensions filled in, its weights as Keras and
    PyTorch store them, its parameter count as a formula, its outputs under every
    return_sequences / return_state setting, its MACs and memory; for a rejected layer, why.

    \b
    lstmcalc explain specs/seed_001_stacked_lstm.yaml lstm1
    lstmcalc explain specs/seed_001_stacked_lstm.yaml lstm2 --show outputs
    lstmcalc explain --input 10,5 "LSTM(50, return_state=True)"
    """
    from ..explain import UnknownLayer, explain as build_explanation

    names = list(layers)
    if (input_shape is None or arguments and arguments[0].endswith(".py")) and len(arguments) > 1:
        arguments, names = arguments[:1], list(arguments[1:]) + names
    report = load_report(arguments, input_shape, batch_size, name, dtype, bindings, framework, class_name)
    try:
        explanation = build_explanation(report, names or None)
    except UnknownLayer as error:
        from ..render.text import printable
        from ..suggest import closest

        suggestion = closest(error.name, error.known)
        hint = f"did you mean {printable(suggestion)}? " if suggestion else ""
        raise click.BadParameter(f"the model has no layer {error.name!r}; {hint}its layers: "
                                 f"{', '.join(printable(name) for name in error.known) or 'none'}",
                                 param_hint="LAYER")
    emit(get_renderer(output_format, EXPLAIN_RENDERERS)(explanation, RenderOptions(sections=sections)))
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)
