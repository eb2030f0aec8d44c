"""Machine formats for `lstmcalc check`: small functions over the same findings.

parsable (``file:line:col: [error] CODE message``), json (one document for all files), github
(workflow commands that annotate the pull request) and sarif (2.1.0, for code scanning).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Dict, List, Optional

from ..check import CheckResult
from ..diagnostics import CODES, ERROR, INFO, WARNING, Diagnostic
from . import RenderOptions
from .text import printable


def _position(diagnostic: Diagnostic) -> str:
    return f"{printable(diagnostic.file)}:{diagnostic.line}:{diagnostic.column}"


def render_parsable(result: CheckResult, options: RenderOptions = RenderOptions()) -> str:
    """One line per finding, for editors and grep (yamllint's ``parsable``)."""
    lines = [f"{_position(d)}: [{d.severity}] {d.code} {printable(d.message)}" for d in result.diagnostics]
    return "".join(line + "\n" for line in lines)


def render_json(result: CheckResult, options: RenderOptions = RenderOptions()) -> str:
    """One document (schema ``lstmcalc.check/1``) listing every file and its findings."""
    return json.dumps(result.to_dict(), indent=2) + "\n"


GITHUB_LEVELS = {ERROR: "error", WARNING: "warning", INFO: "notice"}


def _github_data(text: str) -> str:
    # Line breaks are the workflow command's own (%0A); other control characters are shown escaped.
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return printable(escaped)


def _github_property(text: str) -> str:
    return _github_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(result: CheckResult, options: RenderOptions = RenderOptions()) -> str:
    """GitHub Actions workflow commands: each finding annotates its line in the pull request."""
    lines = []
    for d in result.diagnostics:
        title = f"{d.code} {d.name}" + (f" ({printable(d.layer)})" if d.layer else "")
        body = printable(d.message) + (f"\nhint: {printable(d.hint)}" if d.hint else "")
        lines.append(f"::{GITHUB_LEVELS.get(d.severity, 'warning')} file={_github_property(d.file or '')},"
                     f"line={d.line},col={d.column},title={_github_property(title)}::{_github_data(body)}")
    summary = result.summary()
    not_verified = f", {summary['not_verified']} not verified" if summary["not_verified"] else ""
    lines.append(f"lstmcalc check: {summary['errors']} error(s), {summary['warnings']} warning(s), "
                 f"{summary['info']} info in {summary['files']} file(s){not_verified}")
    return "".join(line + "\n" for line in lines)


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {ERROR: "error", WARNING: "warning", INFO: "note"}


def _sarif_rules() -> List[Dict[str, object]]:
    return [{"id": code.code, "name": code.name,
             "shortDescription": {"text": code.summary},
             "defaultConfiguration": {"level": SARIF_LEVELS[code.severity]},
             "properties": {"group": code.group}}
            for code in CODES.values()]


SRCROOT = "%SRCROOT%"


def sarif_location(file: Optional[str], base: str) -> Dict[str, str]:
    """A SARIF ``artifactLocation``: a percent-encoded path relative to ``%SRCROOT%`` (the working
    directory) for files below it, else an absolute ``file://`` URI."""
    from urllib.parse import quote

    if not file:
        return {"uri": ""}
    if file.startswith("<"):  # <stdin>, <command line>: not a file
        return {"uri": quote(file.strip("<>"))}
    path = os.path.abspath(file)
    relative = os.path.relpath(path, base) if os.path.splitdrive(path)[0] == os.path.splitdrive(base)[0] else ".."
    if relative == ".." or relative.startswith(".." + os.sep):
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(relative.replace(os.sep, "/")), "uriBaseId": SRCROOT}


def fingerprint(diagnostic: Diagnostic, uri: str) -> str:
    """Stable across commits: the rule, the file, the layer and the message, not the line (code
    scanning matches a moved finding by it)."""
    text = "\0".join((diagnostic.code, uri, diagnostic.layer or "", diagnostic.message))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def render_sarif(result: CheckResult, options: RenderOptions = RenderOptions()) -> str:
    """SARIF 2.1.0, for `github/codeql-action/upload-sarif` and other code-scanning tools."""
    from .. import __version__

    base = os.getcwd()
    index = {code: position for position, code in enumerate(CODES)}
    results = []
    for d in result.diagnostics:
        text = d.message + (f" Hint: {d.hint}" if d.hint else "")
        artifact = sarif_location(d.file, base)
        entry: Dict[str, object] = {
            "ruleId": d.code, "level": SARIF_LEVELS.get(d.severity, "warning"), "message": {"text": text},
            "locations": [{"physicalLocation": {
                "artifactLocation": artifact,
                "region": {"startLine": d.line, "startColumn": d.column}}}],
            "partialFingerprints": {"lstmcalc/v1": fingerprint(d, artifact["uri"])},
        }
        if d.code in index:
            entry["ruleIndex"] = index[d.code]
        if d.layer:
            entry["properties"] = {"layer": d.layer}
        results.append(entry)
    document = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "lstmcalc", "version": __version__,
                                      "informationUri": "https://pypi.org/project/lstmcalc/",
                                      "rules": _sarif_rules()}},
                  "originalUriBaseIds": {SRCROOT: {"uri": Path(base).as_uri().rstrip("/") + "/"}},
                  "results": results}],
    }
    return json.dumps(document, indent=2) + "\n"
