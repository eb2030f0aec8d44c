"""`lstmcalc check --jobs`: how many processes check the files, and that their output is the
output of one process, in the same order, whatever happens to a worker."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from lstmcalc import check as check_module
from lstmcalc.check import PASSES, CheckOptions, execute, job_count, verify_pass
from lstmcalc.cli import cli

from .conftest import ROOT

NO_VERIFY = tuple(item for item in PASSES if item is not verify_pass)
forking = pytest.mark.skipif(not check_module.can_fork(), reason="check forks workers on Linux only")


def files(count: int):
    return [f"spec_{index}.yaml" for index in range(count)]


# (id, jobs option, files, passes, usable CPUs, processes). Auto: min(CPUs, files // 8) with the
# verifier, at least 1; an explicit number is capped by the files; stdin is read by one process.
JOB_COUNTS = [
    ("auto-200-files-2-cpus", 0, files(200), PASSES, 2, 2),  # min(2, 200 // 8 = 25) = 2
    ("auto-16-files-4-cpus", 0, files(16), PASSES, 4, 2),  # min(4, 16 // 8 = 2) = 2
    ("auto-15-files", 0, files(15), PASSES, 4, 1),  # 15 // 8 = 1
    ("auto-one-file", 0, files(1), PASSES, 4, 1),
    ("auto-without-verifier", 0, files(200), NO_VERIFY, 4, 1),  # a file costs less than sending it back
    ("explicit-3", 3, files(200), NO_VERIFY, 2, 3),  # asked for: even beyond the CPUs
    ("explicit-capped-by-files", 8, files(3), PASSES, 2, 3),  # min(8, 3 files)
    ("explicit-1", 1, files(200), PASSES, 4, 1),
    ("stdin", 4, ["-"] + files(20), PASSES, 4, 1),  # only this process can read standard input
]


@pytest.mark.parametrize("case_id, jobs, paths, passes, cpus, expected", JOB_COUNTS,
                         ids=[case[0] for case in JOB_COUNTS])
def test_job_count(monkeypatch, case_id, jobs, paths, passes, cpus, expected):
    monkeypatch.setattr(check_module, "usable_cpus", lambda: cpus)
    monkeypatch.setattr(check_module, "can_fork", lambda: True)
    assert job_count(CheckOptions(paths=paths, jobs=jobs, passes=passes), paths) == expected


def test_no_fork_means_one_process(monkeypatch):
    monkeypatch.setattr(check_module, "can_fork", lambda: False)
    assert job_count(CheckOptions(paths=files(200), jobs=4), files(200)) == 1


def comparable(result):
    """Everything a renderer shows of a CheckResult, as data."""
    return [checked.to_dict() for checked in result.files]


@pytest.fixture
def specs_and_fixtures(monkeypatch):
    monkeypatch.chdir(ROOT)
    # Valid and invalid specs, errors and warnings: seed 000 named after the folder excluding it.
    return ["specs/", "tests/fixtures/check/", "specs/seed_000_stacked_lstm.yaml"]


@forking
@pytest.mark.parametrize("jobs", [2, 3, 7])
def test_parallel_output_equals_one_process(specs_and_fixtures, jobs):
    alone = execute(CheckOptions(paths=specs_and_fixtures, jobs=1))
    shared = execute(CheckOptions(paths=specs_and_fixtures, jobs=jobs))
    assert comparable(shared) == comparable(alone)
    assert [checked.file for checked in shared.files] == [checked.file for checked in alone.files]
    assert shared.failed == alone.failed is True  # seed 000 is rejected, as Keras rejects it
    # The reports come back whole: the summary of any file can still be rendered.
    assert [c.report.totals.params for c in shared.files if c.report is not None and c.report.ok] == \
           [c.report.totals.params for c in alone.files if c.report is not None and c.report.ok]


@forking
def test_a_worker_that_dies_leaves_its_files_to_the_parent(specs_and_fixtures, monkeypatch):
    alone = execute(CheckOptions(paths=specs_and_fixtures, jobs=1))
    parent = os.getpid()
    check_file = check_module.check_file

    def dying(file, options, strict=False):
        if os.getpid() != parent:
            os._exit(3)  # a worker killed mid-run (out of memory, say), before it sent anything back
        return check_file(file, options, strict)

    monkeypatch.setattr(check_module, "check_file", dying)
    shared = execute(CheckOptions(paths=specs_and_fixtures, jobs=2))
    assert comparable(shared) == comparable(alone)


@forking
def test_a_worker_that_fails_sends_back_what_it_did(specs_and_fixtures, monkeypatch, capfd):
    alone = execute(CheckOptions(paths=specs_and_fixtures, jobs=1))
    parent = os.getpid()
    check_file = check_module.check_file
    calls = []

    def failing_on_its_second_file(file, options, strict=False):
        calls.append(file)
        if os.getpid() != parent and len(calls) == 2:
            raise RuntimeError("a bug in a worker")  # its first file is sent back, the rest is the parent's
        return check_file(file, options, strict)

    monkeypatch.setattr(check_module, "check_file", failing_on_its_second_file)
    shared = execute(CheckOptions(paths=specs_and_fixtures, jobs=2))
    assert comparable(shared) == comparable(alone)
    assert "Traceback" not in capfd.readouterr().err  # the worker prints nothing of its own


@forking
def test_cli_jobs_same_output(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    one = CliRunner().invoke(cli, ["check", "specs/", "--format", "json", "--jobs", "1"])
    two = CliRunner().invoke(cli, ["check", "specs/", "--format", "json", "-j", "2"])
    auto = CliRunner().invoke(cli, ["check", "specs/", "--format", "json", "--jobs", "auto"])
    assert one.exit_code == two.exit_code == auto.exit_code == 0, one.output + two.output
    assert one.output == two.output == auto.output


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5", ""])
def test_bad_jobs_is_a_usage_error(monkeypatch, value):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["check", "specs/", "--jobs", value])
    assert result.exit_code == 2, result.output
    assert "neither a positive number of processes nor auto" in result.output
    assert "Traceback" not in result.output
