"""`lstmcalc diff`: Compare two specs."""

from __future__ import annotations

import sys

import click

from ..cli import EXIT_OK, emit, ANY_PATH, AT_LEAST_ONE, load_report
from ..render import RenderOptions, get_renderer, DIFF_RENDERERS


EXIT_DIFFERENT = 1  # lstmcalc diff, as diff(1): 0 same, 1 different, 2 trouble


@click.command(name="diff")
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
    from ..diff import RevisionError, compare, report_at_revision

    if rev is None and new is None:
        raise click.UsageError("give two specs (lstmcalc diff OLD NEW), or one spec and --rev REV")
    if rev is not None and new is not None:
        raise click.UsageError("with --rev, give one spec: it is compared with itself at that revision")
    if rev is not None:
        new_report = load_report([old], None, batch_size, None, None)
        try:
            old_report = report_at_revision(old, rev, batch_size)
        except RevisionError as error:
            raise click.BadParameter(str(error), param_hint="--rev") from None
    else:
        old_report = load_report([old], None, batch_size, None, None)
        new_report = load_report([new], None, batch_size, None, None)
    result = compare(old_report, new_report)
    emit(get_renderer(output_format, DIFF_RENDERERS)(result, RenderOptions()))
    sys.exit(EXIT_OK if result.same else EXIT_DIFFERENT)
