"""Fuzzing: schemathesis (`st run --checks all`) drives every operation of the live OpenAPI document with
generated input, signed in as an admin, a coordinator, a merchant and a resident.

The suite is its own (generated ids would otherwise change what other tests rely on). Every check runs:
no 5xx, answers as documented (status, content type, headers, schemas), schema-violating input rejected
(ST201), schema-valid input accepted (ST202) unless refused with 422 for a rule the schema cannot state —
those rules, per operation and field, are listed in fuzz_hooks.py next to this file.

Bounded: the coverage phase (every boundary and every violation of each keyword of each operation's
schema, deterministic) runs once, as the admin, whom every operation lets through to its rules; the
examples and fuzzing phases (seeded, deterministic, MAX_EXAMPLES generated cases per operation) run for
each role. The runs go side by side against one suite, each stopping by itself (TIME_LIMIT guards a hang).
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.volunteers.lifecycle import MIN_LEVEL
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
HOOKS = HERE / "fuzz_hooks.py"
MAX_EXAMPLES = 3  # per operation in the fuzzing phase, for each role
ROLES = {
    "admin": {"roles": ["resident", "admin"]},
    "coordinator": {"roles": ["resident", "coordinator"]},  # of a grid the fixture creates
    "merchant": {"roles": ["resident", "merchant"]},
    "resident": {"roles": ["resident"]},
}
# (name, role, phases, tags): the boundary walk once as the admin, in three parts of about the same size,
# and generated cases for every role. Each run is one process with one worker: schemathesis compiles
# source as it goes, and two threads compiling at once can fail on CPython 3.11 ("AST constructor
# recursion depth mismatch"); the runs side by side keep the suite busy instead.
RUNS = [("admin coverage of volunteers", "admin", "coverage", ["volunteers"]),
        ("admin coverage of bookings and accounts", "admin", "coverage", ["bookings", "accounts"]),
        ("admin coverage of charity and notifications", "admin", "coverage", ["charity", "notifications"]),
        ("admin coverage of activities", "admin", "coverage", ["activities"]),
        *((f"{role} fuzzing", role, "examples,fuzzing", []) for role in ROLES)]
# Ending the fuzzer's own session would turn every later case into a 401 and test nothing.
SELF_DEFEATING = ("/api/v1/auth/logout", "/api/v1/me/password")
TIME_LIMIT = 900  # seconds for all runs together; a run still going then has hung


@pytest.fixture(scope="module")
def fuzz_suite():
    running = RunningSuite("postgres").start()
    try:
        admin = running.user(**ROLES["admin"])
        grid = admin.post("/grids", json={"name": "Fuzz district", "level": MIN_LEVEL})
        assert grid.status_code == 201, grid.text
        fuzzers = {"admin": admin, **{role: running.user(**spec, grids=[grid.json()["id"]] if role == "coordinator"
                                                         else ()) for role, spec in ROLES.items() if role != "admin"}}
        running.sacrifice = running.user()
        running.fuzzers = fuzzers
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def fuzz_runs(fuzz_suite, tmp_path_factory):
    """Every run of RUNS, started together and awaited: name → (exit status, output)."""
    folder = tmp_path_factory.mktemp("fuzz")
    st = str(Path(sys.executable).parent / "st")
    started = {}
    for name, role, phases, tags in RUNS:
        env = {
            **os.environ,
            "NUANXIN_FUZZ_TOKEN": fuzz_suite.fuzzers[role].token,
            "SCHEMATHESIS_HOOKS": str(HOOKS),
            "NUANXIN_FUZZ_PROTECTED_IDS": ",".join(str(c.id) for c in fuzz_suite.fuzzers.values()),
            "NUANXIN_FUZZ_SACRIFICE_ID": str(fuzz_suite.sacrifice.id),
        }
        command = [st, "--config-file", str(CONFIG), "--no-color", "run", f"{fuzz_suite.base_url}/api/openapi.json",
                   "--checks", "all", "--phases", phases, "--max-examples", str(MAX_EXAMPLES), "--workers", "1"]
        for tag in tags:
            command += ["--include-tag", tag]
        for path in SELF_DEFEATING:
            command += ["--exclude-path", path]
        workdir = folder / name.replace(" ", "-")
        workdir.mkdir()
        output = (workdir / "output.txt").open("w+", encoding="utf-8")
        started[name] = (subprocess.Popen(command, cwd=workdir, env=env, stdout=output, stderr=subprocess.STDOUT),
                         output)
    results = {}
    deadline = time.monotonic() + TIME_LIMIT
    try:
        for name, (process, output) in started.items():
            try:
                process.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            output.seek(0)
            results[name] = (process.returncode, output.read())
    finally:
        for process, output in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
            output.close()
    return results


def _report(text: str) -> str:
    """The failures, errors and summary of a run's output (the part worth reading)."""
    start = min((i for i in (text.find("=== ERRORS ==="), text.find("=== FAILURES ===")) if i >= 0),
                default=max(0, len(text) - 4000))
    summary = re.search(r"=+ SUMMARY =+.*", text, re.S)
    return text[start:start + 20000] + ("\n" + summary.group(0) if summary else "")


@pytest.mark.parametrize("name", [name for name, *_ in RUNS])
def test_no_server_error_and_every_answer_as_documented(fuzz_runs, name):
    status, output = fuzz_runs[name]
    assert status == 0, f"{name}: st exited with {status}\n{_report(output)}"
    assert re.search(r"Test cases:\s+\d+ generated", output), output[-3000:]
