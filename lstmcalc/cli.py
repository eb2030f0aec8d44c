"""The command line: parse options, call the library, render, choose the exit code."""

from __future__ import annotations

import gc
import os
import sys
from typing import Optional, Sequence, Tuple

import click

from . import __version__

from .render import (CHECK_RENDERERS, EXPLAIN_RENDERERS, EXPLAIN_SECTIONS, SUMMARY_COLUMNS,
                     SUMMARY_RENDERERS, VERIFY_RENDERERS, RenderOptions, get_renderer)

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
    """--color always/never; with auto, NO_COLOR (no-color.org) turns colour off, FORCE_COLOR
    (force-color.org) turns it on without a terminal (CI logs), else only on a terminal. NO_COLOR
    wins over FORCE_COLOR, as in rich and CPython."""
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty() and os.environ.get("TERM") != "dumb"


def terminal_width() -> Optional[int]:
    """The columns to fit tables in: COLUMNS when set, else the terminal's; None when unknown
    (output to a file or pipe keeps Keras's widths)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.strip().isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        import shutil

        return shutil.get_terminal_size().columns
    return None


def standard_input():
    """Standard input as bytes (click's test runner gives a text stream with a buffer too)."""
    return getattr(sys.stdin, "buffer", sys.stdin)


def emit(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lstmcalc")
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
        return api.analyze_stdin(standard_input(), batch_size=batch_size)
    if not os.path.lexists(path):  # a broken link is reported by the reader (S026)
        hint = " (to build a model on the command line, start with --input SHAPE)" if "(" in path else ""
        raise click.BadParameter(f"no such file: {path}{hint}", param_hint="SPEC")
    if os.path.isdir(path):
        raise click.BadParameter(f"{path} is a directory; `lstmcalc check` takes directories",
                                 param_hint="SPEC")
    return api.analyze(path, batch_size=batch_size)


FORMAT_OPTION = click.option("--format", "output_format", type=click.Choice(list(SUMMARY_RENDERERS)),
                             default="table", show_default=True, help="Output format.")
COLOR_OPTION = click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto",
                            show_default=True, help="Colour the table (auto: on a terminal or when "
                                                    "FORCE_COLOR is set; never when NO_COLOR is set).")


def comma_list(choices: Sequence[str], default: Tuple[str, ...], what: str, example: str):
    """A click callback: ``a,b`` → ("a", "b"), each one of ``choices``."""

    def parse(context, parameter, value: Optional[str]) -> Tuple[str, ...]:
        if value is None:
            return default
        names = tuple(part.strip().lower() for part in value.split(",") if part.strip())
        unknown = [name for name in names if name not in choices]
        if unknown or not names:
            raise click.BadParameter(f"{', '.join(unknown) or 'nothing'} is not a {what}; choose from "
                                     f"{', '.join(choices)}, e.g. {example}")
        return tuple(dict.fromkeys(names))

    return parse


parse_columns = comma_list(list(SUMMARY_COLUMNS), ("params",), "column", "--columns params,macs,activations")


@cli.command()
@click.argument("arguments", nargs=-1, metavar="SPEC | --input SHAPE LAYER...")
@click.option("--input", "input_shape", metavar="SHAPE",
              help="Build the model from the command line: input shape without the batch axis, "
                   "e.g. 50,10 or None,10; the arguments are then layers in Keras call syntax.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Batch size (overrides the spec's).")
@click.option("--name", help="Model name for a model built with --input.")
@click.option("--dtype", default="float32", show_default=True, help="Input dtype with --input.")
@click.option("--width", type=click.IntRange(min=40), help="Table width (Keras: 88, or 108 for graphs).")
@click.option("--columns", callback=parse_columns, metavar="LIST",
              help="Figure columns after Output Shape, comma-separated: params (the default), macs "
                   "(multiply-accumulates per sample), activations (output memory for the batch). "
                   "macs or activations also print compute and memory totals.")
@FORMAT_OPTION
@COLOR_OPTION
def summary(arguments, input_shape, batch_size, name, dtype, width, columns, output_format, color):
    """Print the model summary: layers, output shapes, parameter counts.

    \b
    lstmcalc summary specs/seed_001_stacked_lstm.yaml
    lstmcalc summary --input 50,10 "LSTM(128, return_sequences=True)" "LSTM(64)" "Dense(1)"
    lstmcalc summary specs/seed_001_stacked_lstm.yaml --columns params,macs,activations
    """
    report = _load_report(arguments, input_shape, batch_size, name, dtype)
    options = RenderOptions(color=use_color(color), width=width, columns=columns, max_width=terminal_width())
    emit(get_renderer(output_format)(report, options))
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)


def default_check_format() -> str:
    """``github`` inside GitHub Actions (annotations on the pull request), else ``text``."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


@cli.command()
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option("--format", "output_format", type=click.Choice(list(CHECK_RENDERERS)),
              help="Output format [default: text; github when GITHUB_ACTIONS=true].")
@click.option("--strict", is_flag=True, help="Fail on warnings too (info never fails).")
@click.option("--update-expect", is_flag=True,
              help="Write the current numbers into each spec's `expect:` block, keeping the rest of "
                   "the file (comments included) as it is.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Batch size (overrides the specs').")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files matching GLOB found in directories and globs (repeatable); a GLOB "
                   "without / matches a file or folder name at any depth.")
@click.option("--force-exclude", is_flag=True, help="Apply exclusions to files named explicitly too "
                                                     "(for pre-commit).")
@click.option("--config", type=click.Path(dir_okay=False),
              help="Settings file for every path (default: each file's closest .lstmcalc.yaml, "
                   "looked for up to the repository root).")
@click.option("--verify/--no-verify", default=True, show_default=True,
              help="Run the NumPy forward pass (lstmcalc verify) over each valid model.")
@COLOR_OPTION
def check(paths, output_format, strict, update_expect, batch_size, exclude, force_exclude, config, verify,
          color):
    """Check specs for CI: every finding with its code, file, line and column.

    PATH is a spec file, a directory (every *.yaml / *.yml below it), a glob, or - (standard
    input). Exit status:
    0 no errors, 1 errors (or warnings with --strict), 2 usage errors.

    \b
    lstmcalc check specs/
    lstmcalc check --format parsable "models/**/*.yaml"
    lstmcalc check --update-expect specs/seed_001_stacked_lstm.yaml
    """
    from .check import PASSES, CheckOptions, UsageProblem, execute, verify_pass

    passes = tuple(item for item in PASSES if verify or item is not verify_pass)
    options = CheckOptions(paths=paths, strict=strict, update_expect=update_expect, batch_size=batch_size,
                           exclude=exclude, force_exclude=force_exclude, config=config, passes=passes)
    try:
        result = execute(options)
    except UsageProblem as problem:
        raise click.UsageError(str(problem)) from None
    renderer = get_renderer(output_format or default_check_format(), CHECK_RENDERERS)
    emit(renderer(result, RenderOptions(color=use_color(color))))
    sys.exit(EXIT_INVALID if result.failed else EXIT_OK)


@cli.command()
def schema():
    """Print the JSON Schema of the spec format (for editors; also schema/lstmcalc-spec.schema.json)."""
    from .schema import schema_text

    emit(schema_text())


@cli.command()
@click.argument("arguments", nargs=-1, metavar="SPEC [LAYER...] | --input SHAPE LAYER...")
@click.option("--input", "input_shape", metavar="SHAPE",
              help="Build the model from the command line, as for summary; pick layers with --layer.")
@click.option("--layer", "layers", multiple=True, metavar="NAME",
              help="Explain only this layer (repeatable); with a spec file, names may also follow it.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Batch size (overrides the spec's).")
@click.option("--name", help="Model name for a model built with --input.")
@click.option("--dtype", default="float32", show_default=True, help="Input dtype with --input.")
@click.option("--show", "sections", metavar="LIST",
              callback=comma_list(EXPLAIN_SECTIONS, (), "section", "--show equations,outputs"),
              help="Only these sections, comma-separated: " + ", ".join(EXPLAIN_SECTIONS)
                   + " (default: all; a rejection is always shown; JSON always has everything).")
@click.option("--format", "output_format", type=click.Choice(list(EXPLAIN_RENDERERS)), default="text",
              show_default=True, help="Output format.")
def explain(arguments, input_shape, layers, batch_size, name, dtype, sections, output_format):
    """Explain each layer: its equations with the dimensions filled in, its weights as Keras and
    PyTorch store them, its parameter count as a formula, its outputs under every
    return_sequences / return_state setting, its MACs and memory; for a rejected layer, why.

    \b
    lstmcalc explain specs/seed_001_stacked_lstm.yaml lstm1
    lstmcalc explain specs/seed_001_stacked_lstm.yaml lstm2 --show outputs
    lstmcalc explain --input 10,5 "LSTM(50, return_state=True)"
    """
    from .explain import UnknownLayer, explain as build_explanation

    names = list(layers)
    if input_shape is None and len(arguments) > 1:
        arguments, names = arguments[:1], list(arguments[1:]) + names
    report = _load_report(arguments, input_shape, batch_size, name, dtype)
    try:
        explanation = build_explanation(report, names or None)
    except UnknownLayer as error:
        from .render.text import printable
        from .suggest import closest

        suggestion = closest(error.name, error.known)
        hint = f"did you mean {printable(suggestion)}? " if suggestion else ""
        raise click.BadParameter(f"the model has no layer {error.name!r}; {hint}its layers: "
                                 f"{', '.join(printable(name) for name in error.known) or 'none'}",
                                 param_hint="LAYER")
    emit(get_renderer(output_format, EXPLAIN_RENDERERS)(explanation, RenderOptions(sections=sections)))
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
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the random weights and inputs (0 or more).")
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
    render_options = RenderOptions(color=use_color(color), width=width, max_width=terminal_width())
    emit(get_renderer(output_format, VERIFY_RENDERERS)(result, render_options))
    sys.exit(EXIT_OK if result.ok else EXIT_INVALID)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Console-script entry point."""
    # A run allocates many small objects and keeps nearly all of them to the end: collecting
    # cycles every 700 allocations (Python's default) costs a third of the time on large models
    # for nothing. A short-lived command can afford rarer collections (as mypy does).
    gc.set_threshold(50_000, 20, 20)
    try:
        cli.main(args=argv, prog_name="lstmcalc", standalone_mode=True)
    except BrokenPipeError:
        # Output piped into `head` and friends: stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_OK)
