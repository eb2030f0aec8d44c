"""`lstmcalc summary`: Print the model summary."""

from __future__ import annotations

import sys

import click

from ..cli import (EXIT_OK, EXIT_INVALID, use_color, terminal_width, emit, ANY_PATH, AT_LEAST_ONE,
                   TABLE_WIDTH, SET_OPTION, CLASS_OPTION, DTYPE_OPTION, load_report, FRAMEWORK_OPTION,
                   FORMAT_OPTION, COLOR_OPTION, parse_columns)
from ..render import RenderOptions, get_renderer


@click.command()
@click.argument("arguments", nargs=-1, metavar="SPEC | --input SHAPE LAYER...", type=ANY_PATH)
@click.option("--input", "input_shape", metavar="SHAPE",
              help="Build the model from the command line: input shape without the batch axis, "
                   "e.g. 50,10 or None,10; the arguments are then layers in Keras call syntax. With a PyTorch "
                   "source (model.py): the shape of one sample its forward() takes, e.g. 35,20 (several "
                   "inputs in forward()'s order: \"30,12;5\").")
@click.option("--batch-size", type=AT_LEAST_ONE, help="Batch size (overrides the spec's).")
@click.option("--name", help="Model name for a model built with --input.")
@DTYPE_OPTION
@click.option("--width", type=TABLE_WIDTH, help="Table width (Keras: 88, or 108 for graphs).")
@click.option("--columns", callback=parse_columns, metavar="LIST",
              help="Figure columns after Output Shape, comma-separated: params (the default), macs "
                   "(multiply-accumulates per sample), activations (output memory for the batch). "
                   "macs or activations also print compute and memory totals.")
@SET_OPTION
@CLASS_OPTION
@FRAMEWORK_OPTION
@FORMAT_OPTION
@click.option("--diagram", is_flag=True, help="With --format markdown: add a Mermaid diagram of the model "
                                              "(GitHub draws it in a pull-request comment).")
@COLOR_OPTION
def summary(arguments, input_shape, batch_size, name, dtype, width, columns, bindings, class_name, framework,
            output_format, diagram, color):
    """Print the model summary: layers, output shapes, parameter counts.

    \b
    lstmcalc summary specs/seed_001_stacked_lstm.yaml
    lstmcalc summary --input 50,10 "LSTM(128, return_sequences=True)" "LSTM(64)" "Dense(1)"
    lstmcalc summary specs/seed_001_stacked_lstm.yaml --columns params,macs,activations
    lstmcalc summary specs/seq2seq.yaml --format markdown --diagram
    lstmcalc summary --framework pytorch --batch-size 8 --input 35,20 "LSTM(hidden_size=64, batch_first=True)"
    lstmcalc summary model.py --input 35,20 --batch-size 8        (a PyTorch nn.Module, read, never run)
    """
    if diagram and output_format != "markdown":
        raise click.UsageError("--diagram goes with --format markdown (for other formats, use "
                               "lstmcalc diagram)")
    report = load_report(arguments, input_shape, batch_size, name, dtype, bindings, framework, class_name)
    options = RenderOptions(color=use_color(color), width=width, columns=columns, diagram=diagram,
                            max_width=terminal_width())
    emit(get_renderer(output_format)(report, options))
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)
