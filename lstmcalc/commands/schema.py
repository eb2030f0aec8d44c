"""`lstmcalc schema`: Print the spec format's JSON Schema."""

from __future__ import annotations


import click

from ..cli import emit


@click.command()
def schema():
    """Print the JSON Schema of the spec format (for editors; also schema/lstmcalc-spec.schema.json)."""
    from ..schema import schema_text

    emit(schema_text())
