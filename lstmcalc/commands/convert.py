"""`lstmcalc convert`: Write a model as a spec, Keras code or PyTorch code."""

from __future__ import annotations

import sys

import click

from ..cli import (EXIT_INVALID, emit, FILE_PATH, AT_LEAST_ONE, SET_OPTION, CLASS_OPTION, DTYPE_OPTION,
                   is_python_source, load_report)


CONVERT_TARGETS = ["yaml", "keras", "pytorch"]


@click.command()
@click.argument("source", metavar="SOURCE")
@click.option("--to", "target", type=click.Choice(CONVERT_TARGETS), required=True,
              help="yaml: an lstmcalc spec; keras: Keras 3 Python code; pytorch: PyTorch code (an nn.Module). A "
                   "model of the other framework is ported by its layers' rules, as lstmcalc port does.")
@click.option("-o", "--output", "output_path", type=FILE_PATH, metavar="FILE",
              help="Write here instead of to standard output.")
@click.option("--input", "input_shape", metavar="SHAPE",
              help="PyTorch source: the shape of one sample its forward() takes, e.g. 35,20.")
@click.option("--batch-size", type=AT_LEAST_ONE, help="PyTorch source: the batch size.")
@DTYPE_OPTION
@SET_OPTION
@CLASS_OPTION
def convert(source, target, output_path, input_shape, batch_size, dtype, bindings, class_name):
    """Write a model read from SOURCE (a spec, .keras, to_json file, Keras or PyTorch Python source,
    or Keras code pasted in quotes) as a spec file, Keras code or PyTorch code.

    \b
    lstmcalc convert model.keras --to yaml -o model.yaml
    lstmcalc convert specs/seq2seq.yaml --to keras
    lstmcalc convert specs/cnn_lstm.yaml --to pytorch
    lstmcalc convert model.py --input 35,20 --batch-size 8 --to keras     (a PyTorch nn.Module)
    """
    from ..writers import PLANNED, WRITERS, NotConvertible

    if target in PLANNED:
        raise click.UsageError(PLANNED[target])
    if (input_shape is not None or batch_size is not None) and not is_python_source([source]):
        raise click.UsageError("--input and --batch-size give what a PyTorch source (a .py file) does not say")
    report = load_report([source], input_shape, batch_size, None, dtype, bindings, class_name=class_name)
    unreadable = [d for d in report.diagnostics if d.is_error and d.code.startswith("S")]
    if report.spec is None or unreadable:
        from ..render.text import diagnostic_lines

        lines = [line for diagnostic in report.diagnostics for line in diagnostic_lines(diagnostic)]
        click.echo("\n".join([f"Cannot convert {source}: it does not read as a model."] + lines), err=True)
        sys.exit(EXIT_INVALID)
    try:
        text = WRITERS[target].write(report)
    except NotConvertible as problem:
        click.echo(f"Cannot convert {source} to {target}: {problem}", err=True)
        sys.exit(EXIT_INVALID)
    if not report.ok:
        from ..layers.frameworks import FRAMEWORKS

        click.echo(f"Note: {FRAMEWORKS[report.framework].title} rejects this model too ({report.errors[0].code}: "
                   f"{report.errors[0].message})", err=True)
    if output_path is None:
        emit(text)
        return
    try:
        with open(output_path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as error:
        raise click.BadParameter(f"cannot write {output_path}: {error.strerror or error}", param_hint="-o")
