"""The command line: parse options, call the library, render, choose the exit code."""

from __future__ import annotations

import gc
import os
import sys
from typing import Any, Dict, Optional, Sequence, Tuple

import click

from . import __version__

from .render import (CHECK_RENDERERS, EXPLAIN_RENDERERS, EXPLAIN_SECTIONS, PORT_RENDERERS, SUMMARY_COLUMNS,
                     SUMMARY_RENDERERS, VERIFY_RENDERERS, RenderOptions, get_renderer)
from .render import DIAGRAM_EXTENSIONS, DIAGRAM_RENDERERS, DIFF_RENDERERS

EXIT_OK = 0
EXIT_INVALID = 1


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


# One instance of each type, shared by every option: click translates a path's or range's
# description through gettext when the type is made, and gettext searches the locale directories
# on every call (15 searches took a tenth of a summary's own start-up).
ANY_PATH = click.Path()
FILE_PATH = click.Path(dir_okay=False)
AT_LEAST_ONE = click.IntRange(min=1)
AT_LEAST_ZERO = click.IntRange(min=0)
TABLE_WIDTH = click.IntRange(min=40)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lstmcalc")
def cli() -> None:
    """Shapes and parameter counts of recurrent models, exactly as Keras 3 computes them."""


def parse_bindings(context, parameter, values: Sequence[str]) -> Dict[str, Any]:
    """``--set units=64 --set shape=(50,10)`` → {"units": 64, "shape": (50, 10)} (Python literals;
    anything else is kept as a string)."""
    import ast

    bindings: Dict[str, Any] = {}
    for item in values:
        name, equals, text = item.partition("=")
        if not equals or not name.strip().isidentifier():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE, e.g. --set timesteps=50")
        try:
            bindings[name.strip()] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            bindings[name.strip()] = text.strip()
    return bindings


SET_OPTION = click.option("--set", "bindings", multiple=True, metavar="NAME=VALUE", callback=parse_bindings,
                          help="Python sources: give a name the value lstmcalc cannot read without running the "
                               "code, e.g. --set features=10, or a constructor argument of a PyTorch module: "
                               "--set hidden_size=128 (repeatable).")
CLASS_OPTION = click.option("--class", "class_name", metavar="NAME",
                            help="PyTorch source: the nn.Module class to read when the file defines several.")
def parse_dtypes(context, parameter, value: Optional[str]) -> Optional[Tuple[Optional[str], ...]]:
    """``float32;int64`` → ("float32", "int64"): one dtype per input, in --input's order; an empty
    part keeps that input's default. Each is checked as a spec's input dtype is."""
    if value is None:
        return None
    from .spec.reader import DTYPES
    from .suggest import closest

    dtypes = []
    for part in value.split(";"):
        part = part.strip()
        if part and part not in DTYPES:
            suggestion = closest(part, DTYPES)
            raise click.BadParameter(f"unknown dtype {part!r}; an input's dtype is one of {', '.join(DTYPES)}"
                                     + (f" (did you mean {suggestion!r}?)" if suggestion else ""))
        dtypes.append(part or None)
    return tuple(dtypes)


DTYPE_OPTION = click.option("--dtype", metavar="DTYPE", callback=parse_dtypes,
                            help="Input dtype with --input [default: float32; for a PyTorch source "
                                 "whose input goes into an Embedding: int64]. Several inputs: one per input in "
                                 "--input's order, \"float32;int64\" (an empty part keeps that input's default); "
                                 "one value sets the first input's only.")


def is_python_source(arguments: Sequence[str]) -> bool:
    """One existing .py file: Keras or PyTorch source."""
    return len(arguments) == 1 and arguments[0].endswith(".py") and os.path.isfile(arguments[0])


def input_dtypes(dtypes: Optional[Tuple[Optional[str], ...]], shapes: int) -> Tuple[Optional[str], ...]:
    """--dtype's values for ``shapes`` inputs given with --input: one value is the first input's (as
    before several inputs could be given); several must be one per input."""
    if dtypes is None:
        return (None,)
    if len(dtypes) > 1 and len(dtypes) != shapes:
        raise click.BadParameter(f"{len(dtypes)} dtypes for {shapes} input shape(s) given with --input; give one "
                                 "dtype per input in the same order, e.g. --input \"30,12;5\" --dtype "
                                 "\"float32;int64\", or one dtype for the first input", param_hint="--dtype")
    return dtypes


def _load_report(arguments: Sequence[str], input_shape: Optional[str], batch_size: Optional[int],
                 name: Optional[str], dtype: Optional[Tuple[Optional[str], ...]],
                 bindings: Optional[Dict[str, Any]] = None, framework: str = "keras",
                 class_name: Optional[str] = None):
    from . import api

    if is_python_source(arguments):
        # --input, --dtype and --batch-size give what PyTorch source does not say.
        from .readers.python_torch import SourceOptions

        # A forward() taking several inputs: their shapes in its order, `--input 30,12;5`, and their
        # dtypes, `--dtype "float32;int64"`.
        shapes = [parse_shape(part) for part in input_shape.split(";")] if input_shape is not None else [None]
        dtypes = input_dtypes(dtype, len(shapes))
        options = SourceOptions(shapes[0], dtypes[0], batch_size, class_name, more_inputs=tuple(shapes[1:]),
                                more_dtypes=tuple(dtypes[1:]))
        return api.analyze(arguments[0], batch_size=batch_size, bindings=bindings, source=options)
    if class_name is not None:
        raise click.UsageError("--class picks the nn.Module class of a PyTorch source (a .py file)")
    if bindings and (input_shape is not None or len(arguments) != 1 or os.path.exists(arguments[0])):
        raise click.UsageError("--set binds names of Python source (a .py file or Keras code given in quotes)")
    if input_shape is not None:
        if not arguments:
            raise click.UsageError("with --input, give the layers as Keras calls, e.g. "
                                   "lstmcalc summary --input 50,10 \"LSTM(64)\" \"Dense(1)\"")
        (first,) = input_dtypes(dtype, 1)
        return api.analyze_layers(parse_shape(input_shape), list(arguments), batch_size=batch_size,
                                  name=name, dtype=first or "float32", framework=framework)
    if len(arguments) != 1:
        raise click.UsageError("give one spec file (or -), or --input SHAPE followed by layers "
                               "in Keras call syntax")
    path = arguments[0]
    if path == "-":
        return api.analyze_stdin(standard_input(), batch_size=batch_size)
    if not os.path.lexists(path):  # a broken link is reported by the reader (S026)
        from .readers import looks_like_code

        if looks_like_code(path):
            return api.analyze_code(path, batch_size=batch_size, bindings=bindings)
        raise click.BadParameter(f"no such file: {path}", param_hint="SPEC")
    if os.path.isdir(path):
        raise click.BadParameter(f"{path} is a directory; `lstmcalc check` takes directories",
                                 param_hint="SPEC")
    return api.analyze(path, batch_size=batch_size, bindings=bindings)


FRAMEWORK_OPTION = click.option("--framework", type=click.Choice(["keras", "pytorch"]), default="keras",
                                show_default=True,
                                help="With --input: the layers are Keras layers or torch.nn modules (PyTorch needs "
                                     "--batch-size).")
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
    report = _load_report(arguments, input_shape, batch_size, name, dtype, bindings, framework, class_name)
    options = RenderOptions(color=use_color(color), width=width, columns=columns, diagram=diagram,
                            max_width=terminal_width())
    emit(get_renderer(output_format)(report, options))
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)


def default_check_format() -> str:
    """``github`` inside GitHub Actions (annotations on the pull request), else ``text``."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


@cli.command()
@click.argument("paths", nargs=-1, metavar="PATH...", type=ANY_PATH)
@click.option("--format", "output_format", type=click.Choice(list(CHECK_RENDERERS)),
              help="Output format [default: text; github when GITHUB_ACTIONS=true].")
@click.option("--strict", is_flag=True, help="Fail on warnings too (info never fails).")
@click.option("--update-expect", is_flag=True,
              help="Write the current numbers into each spec's `expect:` block, keeping the rest of "
                   "the file (comments included) as it is.")
@click.option("--batch-size", type=AT_LEAST_ONE, help="Batch size (overrides the specs').")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files matching GLOB found in directories and globs (repeatable); a GLOB "
                   "without / matches a file or folder name at any depth.")
@click.option("--force-exclude", is_flag=True, help="Apply exclusions to files named explicitly too "
                                                     "(for pre-commit).")
@click.option("--config", type=FILE_PATH,
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
    from .explain import UnknownLayer, explain as build_explanation

    names = list(layers)
    if (input_shape is None or arguments and arguments[0].endswith(".py")) and len(arguments) > 1:
        arguments, names = arguments[:1], list(arguments[1:]) + names
    report = _load_report(arguments, input_shape, batch_size, name, dtype, bindings, framework, class_name)
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
    from .verify import DEFAULT_BATCH_SIZE, DEFAULT_TIMESTEPS, VerifyOptions, save_outputs, verify_report

    sample = None
    if input_path is not None and not os.path.exists(input_path) and is_python_source([spec]):
        sample, input_path = input_path, None  # the shape of one sample of a PyTorch source's input
    elif input_path is not None and not os.path.lexists(input_path):
        # Anything that exists goes to the array reader, which says what it is (a FIFO, a device).
        raise click.BadParameter(f"no such file: {input_path}", param_hint="--input")
    if input_path is not None and (batch_size is not None or timesteps is not None):
        raise click.UsageError("--batch-size and --timesteps do not apply with --input: the input "
                               "arrays' shapes set the batch size and lengths")
    report = _load_report([spec], sample, batch_size if sample is not None else None, None, dtype, bindings,
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
    from .render.text import diagnostic_lines

    lines = [line for diagnostic in report.errors for line in diagnostic_lines(diagnostic)]
    if lines:
        click.echo("\n".join(lines), err=True)


@cli.command()
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
    report = _load_report([spec], input_shape, batch_size, None, dtype, bindings, class_name=class_name)
    text = get_renderer(chosen, DIAGRAM_RENDERERS)(report, RenderOptions())
    if output_path is not None:
        write_output(output_path, text, "-o")
    else:
        emit(text)
    report_errors(report)
    sys.exit(EXIT_OK if report.ok else EXIT_INVALID)


EXIT_DIFFERENT = 1  # lstmcalc diff, as diff(1): 0 same, 1 different, 2 trouble


@cli.command(name="diff")
@click.argument("old", metavar="OLD", type=ANY_PATH)
@click.argument("new", metavar="[NEW]", type=ANY_PATH, required=False)
@click.option("--rev", metavar="REV", help="Compare OLD as committed at git revision REV (e.g. HEAD~1, "
                                            "main) with the file as it is now.")
@click.option("--format", "output_format", type=click.Choice(list(DIFF_RENDERERS)), default="table",
              show_default=True, help="Output format (markdown for a pull-request comment).")
@click.option("--batch-size", type=AT_LEAST_ONE, help="Batch size (overrides the specs').")
def diff_command(old, new, rev, output_format, batch_size):
    """Compare two specs: layers added, removed, renamed or changed (settings, shapes, parameters),
    the totals, and whether the model became invalid (with the new findings).

    \b
    lstmcalc diff specs/seed_000_stacked_lstm.yaml specs/seed_000_return_sequences.yaml
    lstmcalc diff specs/seq2seq.yaml --rev HEAD~1
    lstmcalc diff old.yaml new.yaml --format markdown

    Exit status: 0 when they are the same, 1 when they differ, 2 usage errors (also an unknown
    revision, or --rev outside a git repository).
    """
    from .diff import RevisionError, compare, report_at_revision

    if rev is None and new is None:
        raise click.UsageError("give two specs (lstmcalc diff OLD NEW), or one spec and --rev REV")
    if rev is not None and new is not None:
        raise click.UsageError("with --rev, give one spec: it is compared with itself at that revision")
    if rev is not None:
        new_report = _load_report([old], None, batch_size, None, None)
        try:
            old_report = report_at_revision(old, rev, batch_size)
        except RevisionError as error:
            raise click.BadParameter(str(error), param_hint="--rev") from None
    else:
        old_report = _load_report([old], None, batch_size, None, None)
        new_report = _load_report([new], None, batch_size, None, None)
    result = compare(old_report, new_report)
    emit(get_renderer(output_format, DIFF_RENDERERS)(result, RenderOptions()))
    sys.exit(EXIT_OK if result.same else EXIT_DIFFERENT)


CONVERT_TARGETS = ["yaml", "keras", "pytorch"]


@cli.command()
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
    from .writers import PLANNED, WRITERS, NotConvertible

    if target in PLANNED:
        raise click.UsageError(PLANNED[target])
    if (input_shape is not None or batch_size is not None) and not is_python_source([source]):
        raise click.UsageError("--input and --batch-size give what a PyTorch source (a .py file) does not say")
    report = _load_report([source], input_shape, batch_size, None, dtype, bindings, class_name=class_name)
    unreadable = [d for d in report.diagnostics if d.is_error and d.code.startswith("S")]
    if report.spec is None or unreadable:
        from .render.text import diagnostic_lines

        lines = [line for diagnostic in report.diagnostics for line in diagnostic_lines(diagnostic)]
        click.echo("\n".join([f"Cannot convert {source}: it does not read as a model."] + lines), err=True)
        sys.exit(EXIT_INVALID)
    try:
        text = WRITERS[target].write(report)
    except NotConvertible as problem:
        click.echo(f"Cannot convert {source} to {target}: {problem}", err=True)
        sys.exit(EXIT_INVALID)
    if not report.ok:
        from .layers.frameworks import FRAMEWORKS

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


@cli.command()
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
def port(spec, weights_path, target, output_path, spec_out, merge_stacks, batch_size, timesteps, seed,
         output_format):
    """Convert a model's weights between Keras and PyTorch, and prove it: both forward passes run on
    the same random input and must agree within 1e-5, else nothing is written.

    \b
    lstmcalc port model.yaml --weights keras.npz --to pytorch -o torch.npz --spec-out torch.yaml
    lstmcalc port torch.yaml --weights state_dict.npz --to keras -o keras.npz --spec-out keras.yaml

    Exit status: 0 when written, 1 when the model has no equivalent or the passes disagree, 2 for
    usage errors.
    """
    from .port import PortOptions, port_report, save_spec, save_weights

    report = _load_report([spec], None, batch_size, None, None)
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
