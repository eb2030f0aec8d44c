"""The recorders' case files and shared command-line options (no framework imported here, so the
Keras and the PyTorch recorders, which run in different environments, both use it)."""

import argparse
import os
import re
import sys

import yaml


def pin_hash_seed():
    """Re-execute the running script with PYTHONHASHSEED=0 unless it is set so: some framework
    messages print a Python set (e.g. the allowed `padding` values), whose order depends on string
    hashing; a fixed seed keeps the recorded messages reproducible byte for byte."""
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.environ["PYTHONHASHSEED"] = "0"
        os.execv(sys.executable, [sys.executable] + sys.argv)


class CaseFileError(Exception):
    """A case file that is not a list of well-formed cases."""


def load_cases(path, required=("id", "spec")):
    """The cases of a YAML case file: a list of mappings with the `required` keys and unique
    kebab-case ids."""
    with open(path, encoding="utf-8") as fh:
        cases = yaml.safe_load(fh)
    if not isinstance(cases, list):
        raise CaseFileError(f"{path}: top level must be a list of cases")
    seen = set()
    for case in cases:
        if not isinstance(case, dict) or any(key not in case for key in required):
            raise CaseFileError(f"malformed case (needs {', '.join(required)}): {case!r}")
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", case["id"]):
            raise CaseFileError(f"case id is not kebab-case: {case['id']!r}")
        if case["id"] in seen:
            raise CaseFileError(f"duplicate case id: {case['id']!r}")
        seen.add(case["id"])
    return cases


def source_options(case):
    """The command-line options lstmcalc reads a PyTorch source case (source_cases.yaml) with:
    --input, --batch-size, --class, --dtype and --set."""
    declared = case["input"]
    shape, dtype = (declared["shape"], declared.get("dtype")) if isinstance(declared, dict) else (declared, None)
    options = ["--input", ",".join(str(dim) for dim in shape), "--batch-size", str(case["batch_size"]),
               "--class", case["class"]] + (["--dtype", dtype] if dtype else [])
    for key, value in case.get("kwargs", {}).items():
        options += ["--set", f"{key}={value!r}"]
    return options


def parse_arguments(description, default_cases, default_out, argv=None, required=("id", "spec"), expand=None):
    """The recorders' shared options: --cases, --out and --only; returns (args, selected cases).
    `expand`, when given, turns the loaded list into the final one (e.g. expands a grid) before
    --only selects from it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--cases", default=default_cases)
    parser.add_argument("--out", default=default_out)
    parser.add_argument("--only", nargs="+", metavar="ID")
    args = parser.parse_args(argv)
    cases = load_cases(args.cases, required)
    if expand is not None:
        cases = expand(cases)
    if args.only:
        missing = set(args.only) - {c["id"] for c in cases}
        if missing:
            parser.error(f"unknown case ids: {sorted(missing)}")
        cases = [c for c in cases if c["id"] in set(args.only)]
    return args, cases
