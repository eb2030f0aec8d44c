"""`lstmcalc diagram`: Draw the layer graph."""

from __future__ import annotations

import os
import sys
from typing import Optional

import click

from ..cli import (EXIT_OK, EXIT_INVALID, emit, ANY_PATH, FILE_PATH, AT_LEAST_ONE, SET_OPTION, CLASS_OPTION,
                   DTYPE_OPTION, is_python_source, load_report)
from ..render import RenderOptions, get_renderer, DIAGRAM_EXTENSIONS, DIAGRAM_RENDERERS


def diagram_format(output_format: Optional[str], output_path: Optional[str]) -> str:
    """--format, else the format of -o's extension, else svg; a usage error when they disagree."""
    if output_path is None:
        return output_format or "svg"
    extension = os.path.splitext(output_path)[1].lower()
    implied = DIAGRAM_EXTENSIONS.get(extension)
    if output_format is None and implied is None:
        raise click.BadParameter(
            f"cannot tell the format from {output_path!r}; name the file "
            f"{', '.join('*' + name for name in DIAGRAM_EXTENSIONS)} or give --format",
            param_hint="-o")
    if output_format is not None and implied is not None and implied != output_format:
        raise click.UsageError(f"--format {output_format} does not match -o {output_path} "
                               f"({extension} is {implied})")
    return output_format or implied


def write_output(path: str, text: str, option: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise click.BadParameter(f"cannot write {path}: {error.strerror or error}", param_hint=option)


def report_errors(report) -> None:
    """An invalid model's errors on standard error (its picture goes to standard output or -o)."""
    from ..render.text import diagnostic_lines

    lines = [line for diagnostic in report.errors for line in diagnostic_lines(diagnostic)]
    if lines:
        click.echo("\n".join(lines), err=True)


@click.command()
@click.argument("spec", metavar="SPEC", type=ANY_PATH)
@click.option("--format", "output_format", type=click.Choice(list(DIAGRAM_RENDERERS)),
              help="svg (standalone, no Graphviz needed), mermaid (renders in GitHub Markdown) or dot "
                   "(Graphviz).  [default: from -o's extension, else svg]")
@click.option("-o", "--output", "output_path", type=FILE_PATH, metavar="FILE",
              help="Write the diagram to FILE; its extension picks the format: "
                   + ", ".join(DIAGRAM_EXTENSIONS) + ".")
@click.option("--batch-size", type=AT_LEAST_ONE, help="Batch size (overrides the spec's).")
@click.option("--input", "input_shape", metavar="SHAPE",
              help="PyTorch source: the shape of one sample its forward() takes, e.g. 35,20.")
@DTYPE_OPTION
@SET_OPTION
@CLASS_OPTION
def diagram(spec, output_format, output_path, batch_size, input_shape, dtype, bindings, class_name):
    """Draw the layer graph, as Keras's plot_model(show_shapes=True) does, without Graphviz: a box
    per layer with its settings, the shapes on the edges, rejected layers in red with their
    diagnostic code, layers never reached greyed.

    \b
    lstmcalc diagram specs/seq2seq.yaml -o seq2seq.svg
    lstmcalc diagram specs/seed_000_stacked_lstm.yaml --format mermaid
    lstmcalc diagram specs/two_input_concatenate.yaml --format dot | dot -Tpng -o model.png

    Exit status: 0 valid model, 1 invalid model (drawn all the same; its errors go to standard
    error), 2 usage errors.
    """
    chosen = diagram_format(output_format, output_path)
    if input_shape is not None and not is_python_source([spec]):
        raise click.UsageError("--input gives what a PyTorch source (a .py file) does not say")
    report = load_report([spec], input_shape, batch_size, None, dtype, bindings, class_name=class_name)
    text = get_renderer(chosen, DIAGRAM_RENDERERS)(report, RenderOptions())
    if output_path is not None:
        write_output(output_path, text, "-o")
    else:
        emit(text)
    report_errors(report)
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)
