"""`lstmcalc check`: find the spec files, run the passes over each, collect the findings.

Per file: read → propagate (the engine's Report) → each pass in ``PASSES`` (expectations, lints)
→ findings. A pass is a plain function ``Report -> list of Diagnostic``; the CLI renders the
``CheckResult`` and picks the exit status from ``CheckResult.failed``.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .diagnostics import ERROR, INFO, WARNING, Diagnostic, sort_key
from .report import Report

SPEC_SUFFIXES = (".yaml", ".yml")
CONFIG_FILE = ".lstmcalc.yaml"
CONFIG_KEYS = ("exclude", "strict")

Pass = Callable[[Report], List[Diagnostic]]


def expectation_pass(report: Report) -> List[Diagnostic]:
    from .expect import check_expectations

    return check_expectations(report)


def lint_pass(report: Report) -> List[Diagnostic]:
    from .lints import run_lints

    return run_lints(report)


def verify_pass(report: Report) -> List[Diagnostic]:
    """The NumPy forward pass (lstmcalc verify) with its defaults; nothing for an invalid model."""
    from .verify import verify_report

    return list(verify_report(report).diagnostics)


# Run in this order after propagation; `check --no-verify` leaves out the last.
PASSES: Tuple[Pass, ...] = (expectation_pass, lint_pass, verify_pass)


class UsageProblem(Exception):
    """Bad paths or configuration: exit status 2."""


@dataclass
class CheckOptions:
    paths: Sequence[str]
    strict: bool = False
    update_expect: bool = False
    batch_size: Optional[int] = None
    exclude: Sequence[str] = ()
    force_exclude: bool = False
    config: Optional[str] = None  # a .lstmcalc.yaml; default: the one in the working directory
    passes: Sequence[Pass] = PASSES


@dataclass
class FileCheck:
    """One spec file's findings (and, with --update-expect, what was rewritten)."""

    file: str
    report: Optional[Report]
    diagnostics: List[Diagnostic] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)  # the expectation changes written

    def count(self, severity: str) -> int:
        return sum(1 for diagnostic in self.diagnostics if diagnostic.severity == severity)

    def to_dict(self) -> Dict[str, object]:
        report = self.report
        return {
            "file": self.file,
            "ok": self.count(ERROR) == 0,
            "model": report.name if report is not None and report.graph is not None else None,
            "params": report.totals.params if report is not None and report.graph is not None and report.ok
            else None,
            "updated": list(self.updated),
            "diagnostics": [diagnostic.to_dict() for diagnostic in self.diagnostics],
        }


@dataclass
class CheckResult:
    files: List[FileCheck]
    strict: bool = False
    excluded: List[str] = field(default_factory=list)

    @property
    def diagnostics(self) -> List[Diagnostic]:
        return [diagnostic for item in self.files for diagnostic in item.diagnostics]

    def count(self, severity: str) -> int:
        return sum(item.count(severity) for item in self.files)

    @property
    def failed(self) -> bool:
        """Errors fail; warnings fail too with --strict; info never does."""
        return self.count(ERROR) > 0 or (self.strict and self.count(WARNING) > 0)

    def summary(self) -> Dict[str, int]:
        return {"files": len(self.files), "errors": self.count(ERROR), "warnings": self.count(WARNING),
                "info": self.count(INFO), "excluded": len(self.excluded)}

    def to_dict(self) -> Dict[str, object]:
        return {"schema": "lstmcalc.check/1", "ok": not self.failed, "strict": self.strict,
                "summary": self.summary(), "files": [item.to_dict() for item in self.files]}


# -- configuration and paths ---------------------------------------------------------------------


def read_config(path: Optional[str]) -> Tuple[Dict[str, object], str]:
    """The settings of a .lstmcalc.yaml (``exclude``: globs relative to its folder; ``strict``) and
    that folder. No file: no settings."""
    import yaml

    explicit = path is not None
    path = path or CONFIG_FILE
    base = os.path.dirname(os.path.abspath(path))
    if not os.path.isfile(path):
        if explicit:
            raise UsageProblem(f"no such configuration file: {path}")
        return {}, base
    try:
        with open(path, encoding="utf-8") as handle:
            settings = yaml.safe_load(handle) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UsageProblem(f"{path} is not valid YAML: {error}") from None
    if not isinstance(settings, dict) or set(settings) - set(CONFIG_KEYS):
        raise UsageProblem(f"{path}: expected a mapping with the keys {', '.join(CONFIG_KEYS)}")
    exclude = settings.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(item, str) for item in exclude):
        raise UsageProblem(f"{path}: `exclude` must be a list of glob patterns")
    if not isinstance(settings.get("strict", False), bool):
        raise UsageProblem(f"{path}: `strict` must be true or false")
    return settings, base


def _relative(path: str, base: str) -> str:
    return os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/")


Exclusion = Tuple[str, str]  # (glob pattern, the folder it is relative to)


def is_excluded(path: str, exclusions: Sequence[Exclusion]) -> bool:
    """A file is excluded when it, or a folder above it, matches a pattern."""
    for pattern, base in exclusions:
        parts = _relative(path, base).split("/")
        candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatchcase(candidate, pattern.rstrip("/")) for candidate in candidates):
            return True
    return False


def _walk(directory: str) -> List[str]:
    found = []
    for root, folders, files in os.walk(directory):
        # Hidden folders (.git, .venv, ...) are not specs.
        folders[:] = sorted(folder for folder in folders if not folder.startswith("."))
        found.extend(os.path.join(root, name) for name in sorted(files)
                     if name.endswith(SPEC_SUFFIXES) and not name.startswith("."))
    return found


def spec_files(paths: Sequence[str], exclusions: Sequence[Exclusion] = (),
               force_exclude: bool = False) -> Tuple[List[str], List[str]]:
    """(files to check, excluded files). Directories give every *.yaml/*.yml below them, globs are
    expanded; exclusions apply to what directories and globs find, and to files named explicitly
    only with ``force_exclude`` (as for ruff and black)."""
    files: List[str] = []
    excluded: List[str] = []
    if not paths:
        raise UsageProblem("give at least one spec file, directory or glob")
    for path in paths:
        if os.path.isdir(path):
            candidates, explicit = _walk(path), False
            if not candidates:
                raise UsageProblem(f"{path} holds no *.yaml or *.yml files")
        elif os.path.isfile(path):
            candidates, explicit = [path], True
        elif glob.has_magic(path):
            candidates = sorted(match for match in glob.glob(path, recursive=True) if os.path.isfile(match))
            explicit = False
            if not candidates:
                raise UsageProblem(f"{path} matches no files")
        else:
            raise UsageProblem(f"no such file or directory: {path}")
        for candidate in candidates:
            candidate = os.path.normpath(candidate)
            if candidate in files or candidate in excluded:
                continue
            if (force_exclude or not explicit) and is_excluded(candidate, exclusions):
                excluded.append(candidate)
            else:
                files.append(candidate)
    return files, excluded


# -- the pipeline --------------------------------------------------------------------------------


def _located(diagnostic: Diagnostic, file: str) -> Diagnostic:
    # CI formats need a position: a finding about the whole file is at its start.
    return diagnostic.located(diagnostic.file or file, diagnostic.line or 1, diagnostic.column or 1)


def analyze_file(file: str, text: Optional[str], problem: Optional[Diagnostic], options: CheckOptions):
    from .api import analyze_text

    if text is None:
        return Report.unread(file, [problem])
    return analyze_text(text, file=file, batch_size=options.batch_size)


def findings(report: Report, passes: Sequence[Pass]) -> List[Diagnostic]:
    """The engine's diagnostics followed by each pass's, sorted by position."""
    diagnostics = list(report.diagnostics)
    if report.graph is not None:
        for check_pass in passes:
            diagnostics.extend(check_pass(report))
    return diagnostics


def check_file(file: str, options: CheckOptions) -> FileCheck:
    from .api import analyze, read_text
    from .readers import is_yaml_file

    if not is_yaml_file(file):
        # A .keras archive, a Keras JSON config or Python source named explicitly: read by
        # lstmcalc.readers; it has no `expect:` block to update.
        report = analyze(file, batch_size=options.batch_size)
        diagnostics = sorted((_located(d, file) for d in findings(report, options.passes)), key=sort_key)
        return FileCheck(file, report, diagnostics)
    text, problem = read_text(file)
    report = analyze_file(file, text, problem, options)
    updated: List[str] = []
    if options.update_expect and text is not None and report.graph is not None:
        from .expect import updated_text

        update = updated_text(text, report)
        if update is not None:
            with open(file, "w", encoding="utf-8", newline="") as handle:
                handle.write(update.text)
            updated = update.changes
            text = update.text
            report = analyze_file(file, text, None, options)
    diagnostics = sorted((_located(d, file) for d in findings(report, options.passes)), key=sort_key)
    return FileCheck(file, report, diagnostics, updated)


def execute(options: CheckOptions) -> CheckResult:
    """Check every spec the options name; raises UsageProblem for bad paths or configuration."""
    settings, base = read_config(options.config)
    # Patterns from the file are relative to its folder; those from the command line to here.
    exclusions = [(pattern, base) for pattern in settings.get("exclude", [])] + \
        [(pattern, os.getcwd()) for pattern in options.exclude]
    files, excluded = spec_files(options.paths, exclusions, options.force_exclude)
    strict = options.strict or bool(settings.get("strict", False))
    return CheckResult([check_file(file, options) for file in files], strict, excluded)
