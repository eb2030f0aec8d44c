"""`lstmcalc port`: Convert weights between Keras and PyTorch, with the proof."""

from __future__ import annotations

import sys

import click

from ..cli import (AT_LEAST_ONE, CLASS_OPTION, DTYPE_OPTION, EXIT_INVALID, EXIT_OK, FILE_PATH, NPZ_FILE, SET_OPTION,
                   emit, is_python_source, load_report)
from ..render import PORT_RENDERERS, RenderOptions, get_renderer


@click.command()
@click.argument("spec", metavar="SPEC")
@click.option("--weights", "weights_path", type=NPZ_FILE, required=True, metavar="W.npz",
              help="The model's weights: Keras's keyed <layer>/<weight>, PyTorch's state_dict keyed "
                   "<module>.<parameter>.")
@click.option("--to", "target", type=click.Choice(["keras", "pytorch"]), required=True,
              help="The framework to port to (the other one than the spec's).")
@click.option("-o", "--output", "output_path", type=FILE_PATH, required=True, metavar="OUT.npz",
              help="Write the converted weights here (numpy.savez), keyed as the other framework keys them.")
@click.option("--spec-out", type=FILE_PATH, metavar="OUT.yaml",
              help="Write the equivalent spec of the other framework here.")
@click.option("--merge-stacks", is_flag=True,
              help="Fold stacked recurrent layers of the same kind and size into one PyTorch module's num_layers.")
@click.option("--batch-size", type=AT_LEAST_ONE,
              help="Batch size of the written PyTorch spec and of the proof where the spec leaves it unknown.  "
                   "[default: 2]")
@click.option("--timesteps", type=AT_LEAST_ONE, default=7, show_default=True,
              help="Length of unknown input axes in the proof.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random input of the proof.")
@click.option("--format", "output_format", type=click.Choice(list(PORT_RENDERERS)), default="text",
              show_default=True, help="Output format.")
@click.option("--input", "input_shape", metavar="SHAPE",
              help="PyTorch source (model.py): the shape of one sample its forward() takes, e.g. 35,20 "
                   "(several inputs in forward()'s order: \"30,12;5\").")
@DTYPE_OPTION
@SET_OPTION
@CLASS_OPTION
def port(spec, weights_path, target, output_path, spec_out, merge_stacks, batch_size, timesteps, seed,
         output_format, input_shape, dtype, bindings, class_name):
    """Convert a model's weights between Keras and PyTorch, and prove it: both forward passes run on
    the same random input and must agree within 1e-5, else nothing is written.

    \b
    lstmcalc port model.yaml --weights keras.npz --to pytorch -o torch.npz --spec-out torch.yaml
    lstmcalc port torch.yaml --weights state_dict.npz --to keras -o keras.npz --spec-out keras.yaml
    lstmcalc port model.py --input 35,20 --batch-size 8 --weights state_dict.npz --to keras -o keras.npz

    Exit status: 0 when written, 1 when the model has no equivalent or the passes disagree, 2 for
    usage errors.
    """
    from ..port import PortOptions, port_report, save_spec, save_weights

    if input_shape is not None and not is_python_source([spec]):
        raise click.UsageError("--input gives what a PyTorch source (a .py file) does not say")
    report = load_report([spec], input_shape, batch_size, None, dtype, bindings, class_name=class_name)
    options = PortOptions(target=target, weights_path=weights_path, merge_stacks=merge_stacks, batch_size=batch_size,
                          timesteps=timesteps, seed=seed)
    try:
        result = port_report(report, options)
    except ValueError as error:
        raise click.UsageError(f"{error}: --to must name the other framework") from None
    if result.ok:
        try:
            save_weights(result, output_path)
            if spec_out:
                save_spec(result, spec_out)
        except OSError as error:
            raise click.BadParameter(f"cannot write: {error.strerror or error}", param_hint="-o / --spec-out")
    emit(get_renderer(output_format, PORT_RENDERERS)(result, RenderOptions()))
    sys.exit(EXIT_OK if result.ok else EXIT_INVALID)
