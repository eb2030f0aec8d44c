"""The `lstmcalc` command's entry point (the console script and `python -m lstmcalc`)."""

import gc

# A run allocates a few hundred thousand objects (click's and lstmcalc's modules and classes, the
# layer graph) and keeps nearly all of them to the end: collecting cycles every 700 allocations,
# Python's default, traverses them again and again for nothing: 2% of a summary's instructions
# (benchmarks/startup.py --instructions), more on models of thousands of layers. A short-lived
# command can afford rarer collections (as mypy's main does); set before anything is imported.
COLLECTION_THRESHOLDS = (200_000, 20, 20)


def main(argv=None) -> None:
    gc.set_threshold(*COLLECTION_THRESHOLDS)
    from .cli import main as run_cli

    try:
        run_cli(argv)
    finally:
        # The interpreter's exit looks for cycles among every object once more (6% of a summary's
        # instructions); frozen objects are left out. Nothing is lost: lstmcalc closes its files
        # in `with` blocks, and the exit flushes the standard streams whether or not they are frozen.
        gc.freeze()


if __name__ == "__main__":
    main()
