"""`lstmcalc verify`: Run the NumPy forward pass."""

from __future__ import annotations

import os
import sys

import click

from ..cli import (EXIT_OK, EXIT_INVALID, use_color, terminal_width, emit, ANY_PATH, FILE_PATH, AT_LEAST_ONE,
                   AT_LEAST_ZERO, TABLE_WIDTH, SET_OPTION, CLASS_OPTION, DTYPE_OPTION, is_python_source,
                   load_report, COLOR_OPTION, NPZ_FILE)
from ..render import VERIFY_RENDERERS, RenderOptions, get_renderer


class MemorySize(click.ParamType):
    """``1GiB``, ``512M``, ``2g`` or a number of bytes."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        from ..verify import parse_memory_size

        try:
            return parse_memory_size(value)
        except ValueError:
            self.fail(f"{value!r} is not a memory size; write e.g. 512M, 2G or 1GiB", param, ctx)


@click.command()
@click.argument("spec", metavar="SPEC", type=ANY_PATH)
@click.option("--batch-size", type=AT_LEAST_ONE, help="Batch size where the spec leaves it "
              "unknown.  [default: 2]")
@click.option("--timesteps", type=AT_LEAST_ONE, help="Length of every unknown non-batch "
              "input axis.  [default: 7]")
@click.option("--seed", type=AT_LEAST_ZERO, default=0, show_default=True,
              help="Seed of the random weights and inputs (0 or more).")
@click.option("--weights", "weights_path", type=NPZ_FILE, metavar="W.npz",
              help="Weights keyed <layer>/<weight> (e.g. lstm/kernel), instead of random ones.")
@click.option("--input", "input_path", type=FILE_PATH, metavar="X.npy|X.npz|SHAPE",
              help="The input array (.npy), or arrays keyed by input name (.npz); their shapes set the "
                   "batch size and lengths. For a PyTorch source (model.py): one sample's shape, e.g. 35,20.")
@click.option("--output", "output_path", type=FILE_PATH, metavar="Y.npz",
              help="Write the model's outputs here, keyed by output layer name (name[i] for several).")
@click.option("--max-memory", type=MemorySize(), default="1GiB", show_default=True,
              help="Refuse to run a forward pass estimated to need more memory.")
@click.option("--format", "output_format", type=click.Choice(list(VERIFY_RENDERERS)), default="table",
              show_default=True, help="Output format.")
@click.option("--width", type=TABLE_WIDTH, help="Table width.  [default: 88]")
@DTYPE_OPTION
@SET_OPTION
@CLASS_OPTION
@COLOR_OPTION
def verify(spec, batch_size, timesteps, seed, weights_path, input_path, output_path, max_memory,
           output_format, width, dtype, bindings, class_name, color):
    """Run a NumPy forward pass to confirm every propagated shape (and compute Keras's numbers).

    \b
    lstmcalc verify specs/cnn_lstm.yaml
    lstmcalc verify specs/seed_001_stacked_lstm.yaml --batch-size 4 --seed 1
    lstmcalc verify model.yaml --weights w.npz --input x.npy --output y.npz
    lstmcalc verify model.py --input 35,20 --batch-size 8        (a PyTorch nn.Module)

    Exit status: 0 when every shape agrees, 1 when one differs (a bug in lstmcalc), the model is
    invalid, or the pass cannot run (memory, weights or input files).
    """
    from ..verify import DEFAULT_BATCH_SIZE, DEFAULT_TIMESTEPS, VerifyOptions, save_outputs, verify_report

    sample = None
    if input_path is not None and not os.path.exists(input_path) and is_python_source([spec]):
        sample, input_path = input_path, None  # the shape of one sample of a PyTorch source's input
    elif input_path is not None and not os.path.lexists(input_path):
        # Anything that exists goes to the array reader, which says what it is (a FIFO, a device).
        raise click.BadParameter(f"no such file: {input_path}", param_hint="--input")
    if input_path is not None and (batch_size is not None or timesteps is not None):
        raise click.UsageError("--batch-size and --timesteps do not apply with --input: the input "
                               "arrays' shapes set the batch size and lengths")
    report = load_report([spec], sample, batch_size if sample is not None else None, None, dtype, bindings,
                          class_name=class_name)
    options = VerifyOptions(batch_size=batch_size or DEFAULT_BATCH_SIZE, timesteps=timesteps or DEFAULT_TIMESTEPS,
                            seed=seed, max_memory=max_memory, weights_path=weights_path,
                            input_path=input_path)
    result = verify_report(report, options)
    if output_path is not None and result.ran and result.outputs:
        try:
            save_outputs(result, output_path)
        except OSError as error:
            raise click.BadParameter(f"cannot write {output_path}: {error.strerror or error}",
                                     param_hint="--output")
    render_options = RenderOptions(color=use_color(color), width=width, max_width=terminal_width())
    emit(get_renderer(output_format, VERIFY_RENDERERS)(result, render_options))
    sys.exit(EXIT_OK if result.ok else EXIT_INVALID)
