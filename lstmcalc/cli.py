"""The command line: parse options, call the library, render, choose the exit code."""

from __future__ import annotations

import os
import sys
from typing import Optional, Sequence, Tuple

import click

from .render import SUMMARY_RENDERERS, VERIFY_RENDERERS, RenderOptions, get_renderer

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def parse_shape(text: str) -> Tuple[Optional[int], ...]:
    """``50,10`` or ``[50, 10]`` or ``None,10`` → (50, 10) / (None, 10)."""
    cleaned = text.strip().strip("[]()").strip()
    if not cleaned:
        raise click.BadParameter("give the shape without the batch axis, e.g. --input 50,10")
    dims = []
    for part in cleaned.split(","):
        part = part.strip()
        if part.lower() in ("none", "null", "?", "~"):
            dims.append(None)
        elif part.isdigit():
            dims.append(int(part))
        elif part == "" and dims:
            continue  # a trailing comma, as in (20,)
        else:
            raise click.BadParameter(
                f"{part!r} is not a dimension; use whole numbers, and None for an unknown length "
                "(e.g. --input None,10)")
    return tuple(dims)


def use_color(choice: str) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def emit(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lstmcalc")
def cli() -> None:
    """Shapes and parameter counts of recurrent models, exactly as Keras 3 computes them."""


def _load_report(arguments: Sequence[str], input_shape: Optional[str], batch_size: Optional[int],
                 name: Optional[str], dtype: str):
    from . import api

    if input_shape is not None:
        if not arguments:
            raise click.UsageError("with --input, give the layers as Keras calls, e.g. "
                                   "lstmcalc summary --input 50,10 \"LSTM(64)\" \"Dense(1)\"")
        return api.analyze_layers(parse_shape(input_shape), list(arguments), batch_size=batch_size,
                                  name=name, dtype=dtype)
    if len(arguments) != 1:
        raise click.UsageError("give one spec file (or -), or --input SHAPE followed by layers "
                               "in Keras call syntax")
    path = arguments[0]
    if path == "-":
        return api.analyze_text(sys.stdin.read(), file="<stdin>", batch_size=batch_size)
    if not os.path.exists(path):
        hint = " (to build a model on the command line, start with --input SHAPE)" if "(" in path else ""
        raise click.BadParameter(f"no such file: {path}{hint}", param_hint="SPEC")
    if os.path.isdir(path):
        raise click.BadParameter(f"{path} is a directory; `lstmcalc check` takes directories",
                                 param_hint="SPEC")
    return api.analyze(path, batch_size=batch_size)


FORMAT_OPTION = click.option("--format", "output_format", type=click.Choice(list(SUMMARY_RENDERERS)),
                             default="table", show_default=True, help="Output format.")
COLOR_OPTION = click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                            show_default=True, help="Colour the table (auto: only on a terminal, "
                                                    "never when NO_COLOR is set).")


@cli.command()
@click.argument("arguments", nargs=-1, metavar="SPEC | --input SHAPE LAYER...")
@click.option("--input", "input_shape", metavar="SHAPE",
              help="Build the model from the command line: input shape without the batch axis, "
                   "e.g. 50,10 or None,10; the arguments are then layers in Keras call syntax.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Batch size (overrides the spec's).")
@click.option("--name", help="Model name for a model built with --input.")
@click.option("--dtype", default="float32", show_default=True, help="Input dtype with --input.")
@click.option("--width", type=click.IntRange(min=40), help="Table width (Keras: 88, or 108 for graphs).")
@FORMAT_OPTION
@COLOR_OPTION
def summary(arguments, input_shape, batch_size, name, dtype, width, output_format, color):
    """Print the model summary: layers, output shapes, parameter counts.

    \b
    lstmcalc summary specs/seed_001_stacked_lstm.yaml
    lstmcalc summary --input 50,10 "LSTM(128, return_sequences=True)" "LSTM(64)" "Dense(1)"
    """
    report = _load_report(arguments, input_shape, batch_size, name, dtype)
    options = RenderOptions(color=use_color(color), width=width)
    emit(get_renderer(output_format)(report, options))
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)


class MemorySize(click.ParamType):
    """``1GiB``, ``512M``, ``2g`` or a number of bytes."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        from .verify import parse_memory_size

        try:
            return parse_memory_size(value)
        except ValueError:
            self.fail(f"{value!r} is not a memory size; write e.g. 512M, 2G or 1GiB", param, ctx)


NPZ_FILE = click.Path(exists=True, dir_okay=False)


@cli.command()
@click.argument("spec", metavar="SPEC")
@click.option("--batch-size", type=click.IntRange(min=1), help="Batch size where the spec leaves it "
              "unknown.  [default: 2]")
@click.option("--timesteps", type=click.IntRange(min=1), help="Length of every unknown non-batch "
              "input axis.  [default: 7]")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random weights and inputs.")
@click.option("--weights", "weights_path", type=NPZ_FILE, metavar="W.npz",
              help="Weights keyed <layer>/<weight> (e.g. lstm/kernel), instead of random ones.")
@click.option("--input", "input_path", type=NPZ_FILE, metavar="X.npy|X.npz",
              help="The input array (.npy), or arrays keyed by input name (.npz); their shapes set the "
                   "batch size and lengths.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False), metavar="Y.npz",
              help="Write the model's outputs here, keyed by output layer name (name[i] for several).")
@click.option("--max-memory", type=MemorySize(), default="1GiB", show_default=True,
              help="Refuse to run a forward pass estimated to need more memory.")
@click.option("--format", "output_format", type=click.Choice(list(VERIFY_RENDERERS)), default="table",
              show_default=True, help="Output format.")
@click.option("--width", type=click.IntRange(min=40), help="Table width.  [default: 88]")
@COLOR_OPTION
def verify(spec, batch_size, timesteps, seed, weights_path, input_path, output_path, max_memory,
           output_format, width, color):
    """Run a NumPy forward pass to confirm every propagated shape (and compute Keras's numbers).

    \b
    lstmcalc verify specs/cnn_lstm.yaml
    lstmcalc verify specs/seed_001_stacked_lstm.yaml --batch-size 4 --seed 1
    lstmcalc verify model.yaml --weights w.npz --input x.npy --output y.npz

    Exit status: 0 when every shape agrees, 1 when one differs (a bug in lstmcalc), the model is
    invalid, or the pass cannot run (memory, weights or input files).
    """
    from .verify import DEFAULT_BATCH_SIZE, DEFAULT_TIMESTEPS, VerifyOptions, save_outputs, verify_report

    if input_path is not None and (batch_size is not None or timesteps is not None):
        raise click.UsageError("--batch-size and --timesteps do not apply with --input: the input "
                               "arrays' shapes set the batch size and lengths")
    report = _load_report([spec], None, None, None, "float32")
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
    render_options = RenderOptions(color=use_color(color), width=width)
    emit(get_renderer(output_format, VERIFY_RENDERERS)(result, render_options))
    sys.exit(EXIT_OK if result.ok else EXIT_INVALID)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="lstmcalc", standalone_mode=True)
    except BrokenPipeError:
        # Output piped into `head` and friends: stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_OK)
