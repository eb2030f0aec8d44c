"""The command line: parse options, call the library, render, choose the exit code."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import click

from . import __version__

from .render import SUMMARY_COLUMNS, SUMMARY_RENDERERS

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
NPZ_FILE = click.Path(exists=True, dir_okay=False)


# Each command lives in its own module of lstmcalc.commands, imported when it runs: building a
# command's options costs as much as a summary's own work, so a run builds only its command's.
COMMANDS = {name: f"lstmcalc.commands.{name}:{name}" for name in
            ("summary", "check", "schema", "explain", "verify", "diagram", "diff", "convert", "port")}
COMMANDS["diff"] = "lstmcalc.commands.diff:diff_command"


def imported_command(target: str) -> click.Command:
    """The command at ``module:attribute`` (a value of COMMANDS), importing its module."""
    module, attribute = target.split(":")
    return getattr(importlib.import_module(module), attribute)


class LazyGroup(click.Group):
    """A click group whose commands are imported by name when used (click's documented pattern for
    lazily loading subcommands); ``list_commands`` still lists them all for --help."""

    def __init__(self, *args: Any, lazy_commands: Dict[str, str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy_commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> Optional[click.Command]:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            self.add_command(imported_command(self.lazy_commands[cmd_name]), cmd_name)
        return super().get_command(ctx, cmd_name)

    def all_commands(self) -> Dict[str, click.Command]:
        """Every command, by name, in the order the reference documentation gives them (importing each)."""
        context = click.Context(self)
        return {name: self.get_command(context, name) for name in self.lazy_commands}  # type: ignore[misc]


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lstmcalc")
def cli() -> None:
    """Shapes and parameter counts of recurrent models, exactly as Keras 3 computes them."""


def __getattr__(name: str) -> click.Command:
    """``from lstmcalc.cli import summary``: a command, imported on first use."""
    target = COMMANDS.get(name) or next((path for path in COMMANDS.values() if path.endswith(f":{name}")), None)
    if target is None:
        raise AttributeError(f"module 'lstmcalc.cli' has no attribute {name!r}")
    return imported_command(target)


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


def load_report(arguments: Sequence[str], input_shape: Optional[str], batch_size: Optional[int],
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


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Run the command line (the console script, lstmcalc.__main__.main, sets Python's cycle
    collection thresholds first)."""
    try:
        cli.main(args=argv, prog_name="lstmcalc", standalone_mode=True)
    except BrokenPipeError:
        # Output piped into `head` and friends: stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_OK)
