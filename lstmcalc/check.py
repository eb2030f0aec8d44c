"""`lstmcalc check`: find the spec files, run the passes over each, collect the findings.

Per file: read → propagate (the engine's Report) → each pass in ``PASSES`` (expectations, lints)
→ findings. A pass is a plain function ``Report -> list of Diagnostic``; the CLI renders the
``CheckResult`` and picks the exit status from ``CheckResult.failed``.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from .diagnostics import ERROR, INFO, WARNING, Diagnostic, make, sort_key
from .report import Report
from .spec.source import Location
from .layers.base import numpy_module

SPEC_SUFFIXES = (".yaml", ".yml")
STDIN_PATH = "-"  # `lstmcalc check -` reads one spec from standard input
STDIN_NAME = "<stdin>"
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
    return verification(report)[0]


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
    config: Optional[str] = None  # a .lstmcalc.yaml for every file; default: each file's closest
    passes: Sequence[Pass] = PASSES
    # Processes checking files at once: 1 checks in this process; 0 (`--jobs auto`) one per CPU
    # when there are enough files to verify to make it worth it (see job_count).
    jobs: int = 1


@dataclass
class FileCheck:
    """One spec file's findings (and, with --update-expect, what was rewritten)."""

    file: str
    report: Optional[Report]
    diagnostics: List[Diagnostic] = field(default_factory=list)
    updated: List[str] = field(default_factory=list)  # the expectation changes written
    # Whether the NumPy forward pass verified the model: None when it did not run (--no-verify,
    # or an invalid model), False when it could not (memory budget, sizes that do not fit).
    verified: Optional[bool] = None
    strict: bool = False  # warnings fail (--strict, or `strict: true` in its .lstmcalc.yaml)

    def count(self, severity: str) -> int:
        return sum(1 for diagnostic in self.diagnostics if diagnostic.severity == severity)

    @property
    def failed(self) -> bool:
        """Errors fail; warnings fail too when strict; info never does."""
        return self.count(ERROR) > 0 or (self.strict and self.count(WARNING) > 0)

    def to_dict(self) -> Dict[str, object]:
        report = self.report
        return {
            "file": self.file,
            "ok": self.count(ERROR) == 0,
            "model": report.name if report is not None and report.graph is not None else None,
            "params": report.totals.params if report is not None and report.graph is not None and report.ok
            else None,
            "verified": self.verified,
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
    def not_verified(self) -> List[FileCheck]:
        """Valid files the verifier could not run over (see FileCheck.verified)."""
        return [item for item in self.files if item.verified is False]

    @property
    def failed(self) -> bool:
        """Errors fail; warnings fail too with --strict (or a configuration's strict); info never."""
        return any(item.failed for item in self.files)

    def summary(self) -> Dict[str, int]:
        return {"files": len(self.files), "errors": self.count(ERROR), "warnings": self.count(WARNING),
                "info": self.count(INFO), "excluded": len(self.excluded),
                "not_verified": len(self.not_verified)}

    def to_dict(self) -> Dict[str, object]:
        return {"schema": "lstmcalc.check/1", "ok": not self.failed, "strict": self.strict,
                "summary": self.summary(), "files": [item.to_dict() for item in self.files]}


# -- configuration and paths ---------------------------------------------------------------------


Exclusion = Tuple[str, str]  # (glob pattern, the folder it is relative to)


@dataclass(frozen=True)
class Config:
    """The settings of one .lstmcalc.yaml (none: the defaults): ``exclude`` globs relative to
    its folder ``base``, and ``strict``."""

    path: Optional[str]
    base: str
    exclude: Tuple[str, ...] = ()
    strict: bool = False

    @property
    def exclusions(self) -> List[Exclusion]:
        return [(pattern, self.base) for pattern in self.exclude]


def read_config(path: str) -> Config:
    """The settings in the configuration file at ``path``; UsageProblem when it is not valid."""
    import yaml

    from .spec.files import decode_spec, read_limited
    from .diagnostics import Problem

    try:
        settings = yaml.safe_load(decode_spec(read_limited(path), path)) or {}
    except FileNotFoundError:
        raise UsageProblem(f"no such configuration file: {path}") from None
    except Problem as problem:
        raise UsageProblem(f"{path}: {problem.message}") from None
    except yaml.YAMLError as error:
        raise UsageProblem(f"{path} is not valid YAML: {error}") from None
    if not isinstance(settings, dict) or set(settings) - set(CONFIG_KEYS):
        raise UsageProblem(f"{path}: expected a mapping with the keys {', '.join(CONFIG_KEYS)}")
    exclude = settings.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(item, str) for item in exclude):
        raise UsageProblem(f"{path}: `exclude` must be a list of glob patterns")
    strict = settings.get("strict", False)
    if not isinstance(strict, bool):
        raise UsageProblem(f"{path}: `strict` must be true or false")
    return Config(path, os.path.dirname(os.path.abspath(path)), tuple(exclude), strict)


class ConfigFinder:
    """Which .lstmcalc.yaml applies to a path, found as ruff and yamllint find theirs: the closest
    one in the path's folder or a folder above it, up to the repository root (the folder holding
    ``.git``) or the filesystem root. ``--config FILE`` applies to every path instead."""

    def __init__(self, explicit: Optional[str] = None):
        self.explicit = read_config(explicit) if explicit is not None else None
        self.found: Dict[str, Config] = {}  # folder → the configuration that applies there

    def for_path(self, path: str) -> Config:
        if self.explicit is not None:
            return self.explicit
        folder = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
        visited = []
        config = None
        while folder not in self.found:
            visited.append(folder)
            candidate = os.path.join(folder, CONFIG_FILE)
            if os.path.isfile(candidate):
                config = read_config(candidate)
                break
            parent = os.path.dirname(folder)
            if parent == folder or os.path.exists(os.path.join(folder, ".git")):
                config = Config(None, os.getcwd())
                break
            folder = parent
        if config is None:
            config = self.found[folder]
        for item in visited:
            self.found[item] = config
        return config


def _relative(path: str, base: str) -> str:
    return os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/")


def is_excluded(path: str, exclusions: Sequence[Exclusion]) -> bool:
    """A file is excluded when it, or a folder above it, matches a pattern. As in ruff and
    yamllint, a pattern without ``/`` (``seq2seq.yaml``, ``build``) matches a file or folder of
    that name at any depth; a pattern with ``/`` matches the path relative to the pattern's
    folder (the configuration file's, or the working directory for ``--exclude``)."""
    for pattern, base in exclusions:
        parts = [part for part in _relative(path, base).split("/") if part not in ("", ".", "..")]
        pattern = pattern.rstrip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        if "/" not in pattern:
            if any(fnmatch.fnmatchcase(part, pattern) for part in parts):
                return True
            continue
        candidates = ["/".join(parts[:end]) for end in range(1, len(parts) + 1)]
        if any(fnmatch.fnmatchcase(candidate, pattern) for candidate in candidates):
            return True
    return False


def _walk(directory: str, errors: Optional[List[Diagnostic]] = None) -> List[str]:
    found = []

    def unreadable(error: OSError) -> None:
        if errors is not None:
            where = error.filename or directory
            errors.append(make("S026", f"Cannot read the folder {where}: {error.strerror or error}; its specs "
                                       "were not checked.", "Check the folder's permissions.",
                               location=Location(where, 1, 1)))

    for root, folders, files in os.walk(directory, onerror=unreadable):
        # Hidden folders (.git, .venv, ...) are not specs.
        folders[:] = sorted(folder for folder in folders if not folder.startswith("."))
        found.extend(os.path.join(root, name) for name in sorted(files)
                     if name.endswith(SPEC_SUFFIXES) and not name.startswith("."))
    return found


ExclusionsFor = Union[Sequence[Exclusion], Callable[[str], Sequence[Exclusion]]]


def spec_files(paths: Sequence[str], exclusions: ExclusionsFor = (), force_exclude: bool = False,
               errors: Optional[List[Diagnostic]] = None) -> Tuple[List[str], List[str]]:
    """(files to check, excluded files). Directories give every *.yaml/*.yml below them, globs are
    expanded, ``-`` is standard input; exclusions (a list, or a function of the path giving its
    list) apply to what directories and globs find, and to files named explicitly only with
    ``force_exclude`` (as for ruff and black). A file named explicitly is checked even when a
    directory named before it excluded it. Folders that cannot be read add an S026 to ``errors``."""
    if not paths:
        raise UsageProblem("give at least one spec file, directory or glob")
    rules = exclusions if callable(exclusions) else (lambda path, fixed=exclusions: fixed)
    files: Dict[str, None] = {}  # ordered sets: membership tests stay constant-time
    excluded: Dict[str, None] = {}
    for path in paths:
        if path == STDIN_PATH:
            candidates, explicit = [path], True
        elif os.path.isdir(path):
            walk_errors: List[Diagnostic] = []
            candidates, explicit = _walk(path, walk_errors), False
            if errors is not None:
                errors.extend(walk_errors)
            if not candidates and not walk_errors:
                raise UsageProblem(f"{path} holds no *.yaml or *.yml files")
        elif os.path.isfile(path) or os.path.islink(path):
            candidates, explicit = [path], True
        elif glob.has_magic(path):
            candidates = sorted(match for match in glob.glob(path, recursive=True)
                                if os.path.isfile(match) or os.path.islink(match))
            explicit = False
            if not candidates:
                raise UsageProblem(f"{path} matches no files")
        elif os.path.exists(path):
            candidates, explicit = [path], True  # a device or FIFO: the reader says why it is refused
        else:
            raise UsageProblem(f"no such file or directory: {path}")
        for candidate in candidates:
            if candidate != STDIN_PATH:
                candidate = os.path.normpath(candidate)
            if candidate in files:
                continue
            if candidate != STDIN_PATH and (force_exclude or not explicit) and is_excluded(candidate, rules(candidate)):
                excluded[candidate] = None
            else:
                excluded.pop(candidate, None)  # named explicitly after a folder that excluded it
                files[candidate] = None
    return list(files), list(excluded)


# -- the pipeline --------------------------------------------------------------------------------


def _located(diagnostic: Diagnostic, file: str) -> Diagnostic:
    # CI formats need a position: a finding about the whole file is at its start.
    return diagnostic.located(diagnostic.file or file, diagnostic.line or 1, diagnostic.column or 1)


def analyze_file(file: str, text: Optional[str], problem: Optional[Diagnostic], options: CheckOptions):
    from .api import analyze_text

    if text is None:
        return Report.unread(file, [problem])
    return analyze_text(text, file=file, batch_size=options.batch_size)


# check verifies at batch 2 and a few time steps: matrices of a few rows, for which BLAS's
# threads cost more than they give (200 bundled specs: 7 s with OpenBLAS's threads on two cores,
# 2.3 s with one). Set before NumPy loads; a value in the environment wins.
SMALL_MATRIX_THREADS = {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def use_small_matrix_threads() -> None:
    """SMALL_MATRIX_THREADS into the environment, where it sets nothing yet (before NumPy loads)."""
    for variable, value in SMALL_MATRIX_THREADS.items():
        os.environ.setdefault(variable, value)


def verification(report: Report) -> Tuple[List[Diagnostic], bool]:
    """The verifier's findings, and whether it verified every tensor (False when it could not
    run, e.g. over the memory budget: then the file is reported as not verified)."""
    use_small_matrix_threads()
    from .verify import verify_report

    result = verify_report(report)
    return list(result.diagnostics), result.ok


def findings(report: Report, passes: Sequence[Pass]) -> List[Diagnostic]:
    """The engine's diagnostics followed by each pass's."""
    return findings_and_verified(report, passes)[0]


def findings_and_verified(report: Report, passes: Sequence[Pass]) -> Tuple[List[Diagnostic], Optional[bool]]:
    """``findings``, and whether the verifier verified the model (None when it did not run: an
    invalid model, or no verify pass)."""
    diagnostics = list(report.diagnostics)
    verified = None
    if report.graph is not None:
        for check_pass in passes:
            if check_pass is verify_pass:
                found, verified = verification(report)
                if not report.ok:
                    verified = None
            else:
                found = check_pass(report)
            diagnostics.extend(found)
    return diagnostics, verified


def _read(file: str) -> Tuple[Optional[str], Optional[Diagnostic]]:
    from .api import read_stream_text, read_text

    if file == STDIN_PATH:
        return read_stream_text(getattr(sys.stdin, "buffer", sys.stdin), STDIN_NAME)
    try:
        return read_text(file)
    except FileNotFoundError:  # gone since it was listed
        return None, make("S026", f"{file} no longer exists.", "Check again once the files have settled.",
                          location=Location(file, None, None))


def _write(file: str, text: str) -> Optional[Diagnostic]:
    try:
        with open(file, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as error:
        return make("X007", f"--update-expect cannot write the new expectations to {file}: "
                            f"{error.strerror or error}; the file is unchanged.",
                    "Make the file writable, or update its `expect:` block by hand.",
                    location=Location(file, 1, 1))
    return None


def check_file(file: str, options: CheckOptions, strict: bool = False) -> FileCheck:
    from .readers import is_yaml_file

    name = STDIN_NAME if file == STDIN_PATH else file
    if file != STDIN_PATH and not is_yaml_file(file):
        # A .keras archive, a Keras JSON config or Python source named explicitly: read by
        # lstmcalc.readers; it has no `expect:` block to update.
        from .api import analyze

        try:
            report = analyze(file, batch_size=options.batch_size)
        except FileNotFoundError:  # gone since it was listed
            report = analyze_file(name, *_read(file), options)
        found, verified = findings_and_verified(report, options.passes)
        diagnostics = sorted((_located(d, name) for d in found), key=sort_key)
        return FileCheck(name, report, diagnostics, [], verified, strict or options.strict)
    text, problem = _read(file)
    report = analyze_file(name, text, problem, options)
    updated: List[str] = []
    unwritten: List[Diagnostic] = []
    if options.update_expect and text is not None and report.graph is not None:
        from .expect import updated_text

        update = updated_text(text, report)
        if update is not None:
            failure = _write(file, update.text)
            if failure is not None:
                unwritten.append(failure)
            else:
                updated = update.changes
                text = update.text
                report = analyze_file(name, text, None, options)
    found, verified = findings_and_verified(report, options.passes)
    diagnostics = sorted((_located(d, name) for d in found + unwritten), key=sort_key)
    return FileCheck(name, report, diagnostics, updated, verified, strict or options.strict)


def execute(options: CheckOptions) -> CheckResult:
    """Check every spec the options name; raises UsageProblem for bad paths or configuration."""
    if options.update_expect and STDIN_PATH in options.paths:
        raise UsageProblem("--update-expect rewrites files; it cannot rewrite standard input (-)")
    configs = ConfigFinder(options.config)
    here = os.getcwd()
    # Patterns from a configuration file are relative to its folder; --exclude's to here.
    command_line = [(pattern, here) for pattern in options.exclude]

    def exclusions(path: str) -> List[Exclusion]:
        return configs.for_path(path).exclusions + command_line

    unreadable: List[Diagnostic] = []
    files, excluded = spec_files(options.paths, exclusions, options.force_exclude, unreadable)
    checks = [FileCheck(d.file or "", None, [d], strict=options.strict) for d in unreadable]
    stricts = [configs.for_path(here if file == STDIN_PATH else file).strict for file in files]
    jobs = job_count(options, files)
    if jobs > 1:
        checks.extend(checked_in_parallel(files, stricts, options, jobs))
    else:
        checks.extend(check_file(file, options, strict) for file, strict in zip(files, stricts))
    return CheckResult(checks, options.strict, excluded)


# -- checking in parallel ------------------------------------------------------------------------

# With `--jobs auto`, a process is started for every this many files to verify, up to one per CPU:
# verifying costs a few milliseconds a file, a new process about as much as two files, and sending
# a file's Report back about a third of a millisecond. Without the verifier a file costs about a
# millisecond to check, too little to share out, so auto checks in one process.
FILES_PER_JOB = 8


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this process may run on (containers, taskset)
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether worker processes can be forked. Only on Linux: a forked child inherits the parsed
    options and starts at once; macOS forbids forking processes that use some system libraries,
    and Windows cannot fork, so there files are checked in one process."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def job_count(options: CheckOptions, files: Sequence[str]) -> int:
    """How many processes check ``files``: ``options.jobs``, or for 0 (auto) one per CPU and per
    FILES_PER_JOB files when the verifier runs; 1 where processes cannot be forked, or when a file
    is standard input (which only this process can read)."""
    if STDIN_PATH in files or not can_fork() or len(files) < 2:
        return 1
    if options.jobs > 0:
        return min(options.jobs, len(files))
    if verify_pass not in options.passes:
        return 1
    return max(1, min(usable_cpus(), len(files) // FILES_PER_JOB))


def checked_in_parallel(files: Sequence[str], stricts: Sequence[bool], options: CheckOptions,
                        jobs: int) -> List[FileCheck]:
    """``check_file`` over ``files`` in this process and ``jobs - 1`` forked ones, in the files'
    order. Each process takes the next unchecked file when it is done with one (a shared counter),
    so one heavy model does not hold up a share of the others; the children send their FileChecks
    back once, at the end. Each verifies within the verifier's whole memory budget: peak memory is
    up to ``jobs`` times it. What a child does not send back (it died, or met a bug of ours) is
    checked here after the others."""
    import multiprocessing
    import pickle

    if verify_pass in options.passes:
        use_small_matrix_threads()
        numpy_module()  # imported once here, inherited by the children
    context = multiprocessing.get_context("fork")
    next_file = context.Value("q", 0)  # its lock makes taking a file atomic

    def take() -> int:
        with next_file.get_lock():
            index = next_file.value
            next_file.value += 1
        return index

    def work(finish: Callable[[int, FileCheck], None]) -> None:
        index = take()
        while index < len(files):
            finish(index, check_file(files[index], options, stricts[index]))
            index = take()

    def child(sender) -> None:
        import signal

        # Ctrl-C reaches the whole process group: this process stops the children itself.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # Each result pickled as soon as it is made, so that the end of the run only copies bytes.
        done: List[bytes] = []
        try:
            work(lambda index, checked: done.append(pickle.dumps((index, checked), pickle.HIGHEST_PROTOCOL)))
        except BaseException:  # noqa: B036  (a bug of ours, or a result that cannot be sent)
            pass  # the parent checks the file again itself, where a bug is reported as everywhere else
        sender.send(done)

    children = []
    checked: Dict[int, FileCheck] = {}
    try:
        for _ in range(jobs - 1):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=child, args=(sender,), daemon=True)
            process.start()
            sender.close()
            children.append((receiver, process))
        work(checked.__setitem__)
        for receiver, process in children:
            try:
                checked.update(pickle.loads(item) for item in receiver.recv())
            except (EOFError, OSError):  # it died (out of memory, killed): its files are checked below
                pass
            process.join()
    finally:
        for receiver, process in children:
            if process.is_alive():
                process.terminate()
            receiver.close()
    return [checked[index] if index in checked else check_file(files[index], options, stricts[index])
            for index in range(len(files))]
