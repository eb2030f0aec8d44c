"""Names from a spec shown safely: control and format characters as visible escapes.

A layer named ``"a\\x1b[2J"`` must not clear a terminal, break an XML document (XML 1.0 forbids
most control characters even as references) or end a line of a Mermaid or DOT file.
"""

from __future__ import annotations

import unicodedata

# Cc: C0/C1 controls, Cf: bidi overrides and other invisible format characters, Cs: lone
# surrogates (YAML's "\ud800" makes one), Zl/Zp: line and paragraph separators.
_ESCAPED_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def printable(text: object) -> str:
    """``text`` with every control, format, surrogate or separator character written as
    ``\\xNN`` / ``\\uNNNN``; other text unchanged."""
    text = str(text)
    if text.isprintable():
        return text
    out = []
    for char in text:
        code = ord(char)
        if unicodedata.category(char) in _ESCAPED_CATEGORIES or code in (0xFFFE, 0xFFFF):
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000
                       else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def printable_lines(text: str) -> str:
    """``printable`` for a whole rendered document: its own line breaks are kept."""
    if text.isprintable():
        return text
    return "\n".join(printable(line) for line in text.split("\n"))
