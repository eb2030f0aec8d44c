"""`lstmcalc check`: Check specs for CI."""

from __future__ import annotations

import os
import sys

import click

from ..cli import EXIT_OK, EXIT_INVALID, use_color, emit, ANY_PATH, FILE_PATH, AT_LEAST_ONE, COLOR_OPTION
from ..render import CHECK_RENDERERS, RenderOptions, get_renderer


class JobCount(click.ParamType):
    """A positive number of processes, or ``auto`` (0)."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return 0
        if text.isdigit() and int(text) >= 1:
            return int(text)
        self.fail(f"{value!r} is neither a positive number of processes nor auto.", param, ctx)


JOB_COUNT = JobCount()


def default_check_format() -> str:
    """``github`` inside GitHub Actions (annotations on the pull request), else ``text``."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


@click.command()
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
@click.option("--jobs", "-j", type=JOB_COUNT, default="auto", show_default=True,
              help="Processes checking files at once: a number, or auto for one per CPU when there "
                   "are enough files to verify (Linux; elsewhere always 1).")
@COLOR_OPTION
def check(paths, output_format, strict, update_expect, batch_size, exclude, force_exclude, config, verify,
          jobs, color):
    """Check specs for CI: every finding with its code, file, line and column.

    PATH is a spec file, a directory (every *.yaml / *.yml below it), a glob, or - (standard
    input). Exit status:
    0 no errors, 1 errors (or warnings with --strict), 2 usage errors.

    \b
    lstmcalc check specs/
    lstmcalc check --format parsable "models/**/*.yaml"
    lstmcalc check --update-expect specs/seed_001_stacked_lstm.yaml
    """
    from ..check import PASSES, CheckOptions, UsageProblem, execute, verify_pass

    passes = tuple(item for item in PASSES if verify or item is not verify_pass)
    options = CheckOptions(paths=paths, strict=strict, update_expect=update_expect, batch_size=batch_size,
                           exclude=exclude, force_exclude=force_exclude, config=config, passes=passes,
                           jobs=jobs)
    try:
        result = execute(options)
    except UsageProblem as problem:
        raise click.UsageError(str(problem)) from None
    renderer = get_renderer(output_format or default_check_format(), CHECK_RENDERERS)
    emit(renderer(result, RenderOptions(color=use_color(color))))
    sys.exit(EXIT_INVALID if result.failed else EXIT_OK)
