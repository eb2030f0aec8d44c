"""`lstmcalc check --format text`: findings grouped by file, coloured on a terminal (rich)."""

from __future__ import annotations

import io

from ..check import CheckResult
from . import RenderOptions
from .text import printable

STYLES = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 or word == 'info' else 's'}"


def render_check(result: CheckResult, options: RenderOptions = RenderOptions()) -> str:
    import rich.console
    from rich.markup import escape

    color = options.color
    buffer = io.StringIO()
    console = rich.console.Console(file=buffer, width=options.width or 100, highlight=False,
                                   force_terminal=color, color_system="256" if color else None,
                                   no_color=not color, legacy_windows=False, soft_wrap=True)

    def styled(text: str, style: str) -> str:
        return f"[{style}]{escape(printable(text))}[/]" if color and style else escape(printable(text))

    for item in result.files:
        if not item.diagnostics and not item.updated:
            continue
        console.print(styled(item.file, "bold underline"))
        for change in item.updated:
            console.print("  " + styled(f"updated {change}", "green"))
        for d in item.diagnostics:
            place = f"{d.line}:{d.column}"
            layer = f" ({d.layer})" if d.layer else ""
            console.print(f"  {escape(place):<7} {styled(f'{d.severity:<7}', STYLES[d.severity])} "
                          f"{styled(d.code, 'bold')} {escape(d.name)}{escape(printable(layer))}: "
                          f"{escape(printable(d.message))}")
            if d.hint:
                console.print("  " + " " * 8 + styled(f"hint: {d.hint}", "dim"))
        console.print()
    summary = result.summary()
    files = _plural(summary["files"], "file") + (f" ({summary['excluded']} excluded)" if summary["excluded"] else "")
    counts = ", ".join([_plural(summary["errors"], "error"), _plural(summary["warnings"], "warning"),
                        _plural(summary["info"], "info")])
    if result.failed:
        line = styled(f"✗ {counts} in {files}", "bold red")
        if not summary["errors"]:
            line += escape(" (warnings fail with --strict)")
    elif summary["errors"] + summary["warnings"] + summary["info"]:
        line = styled(f"✓ {files} passed", "bold green") + escape(f" ({counts})")
    else:
        line = styled(f"✓ {files} passed", "bold green")
    if summary["not_verified"]:
        # Valid, but the forward pass did not run over it (memory budget, ...): say so.
        line += "; " + styled(f"{_plural(summary['not_verified'], 'file')} not verified", "yellow")
    console.print(line)
    return buffer.getvalue()
