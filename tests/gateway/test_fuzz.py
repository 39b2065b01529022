"""Fuzzing: schemathesis (`st run --checks all`) drives every operation of the live OpenAPI document with
generated input, signed in as an admin, a coordinator, a merchant and a resident.

The suite is its own (generated ids would otherwise change what other tests rely on). Every check runs:
no 5xx, answers as documented (status, content type, headers, schemas), schema-violating input rejected
(ST201), schema-valid input accepted (ST202) unless the operation's rule cannot be written in the schema —
those few, with their reason, are listed in schemathesis.toml next to this file. The run is seeded,
deterministic and bounded by a small number of examples per operation.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.volunteers.lifecycle import MIN_LEVEL
from tests.support.suite import RunningSuite

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent
CONFIG = HERE / "schemathesis.toml"
HOOKS = HERE / "fuzz_hooks.py"
MAX_EXAMPLES = 4  # per operation and phase: four roles in a few minutes on two cores
ROLES = {
    "admin": {"roles": ["resident", "admin"]},
    "coordinator": {"roles": ["resident", "coordinator"]},  # of a grid the fixture creates
    "merchant": {"roles": ["resident", "merchant"]},
    "resident": {"roles": ["resident"]},
}
# Ending the fuzzer's own session would turn every later case into a 401 and test nothing.
SELF_DEFEATING = ("/api/v1/auth/logout", "/api/v1/me/password")


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


@pytest.mark.parametrize("role", list(ROLES))
def test_no_server_error_and_every_answer_as_documented(fuzz_suite, role, tmp_path):
    fuzzer = fuzz_suite.fuzzers[role]
    env = {
        **os.environ,
        "NUANXIN_FUZZ_TOKEN": fuzzer.token,
        "SCHEMATHESIS_HOOKS": str(HOOKS),
        "NUANXIN_FUZZ_PROTECTED_IDS": ",".join(str(c.id) for c in fuzz_suite.fuzzers.values()),
        "NUANXIN_FUZZ_SACRIFICE_ID": str(fuzz_suite.sacrifice.id),
    }
    command = [str(Path(sys.executable).parent / "st"), "--config-file", str(CONFIG), "--no-color", "run",
               f"{fuzz_suite.base_url}/api/openapi.json", "--checks", "all",
               "--phases", "examples,coverage,fuzzing", "--max-examples", str(MAX_EXAMPLES), "--workers", "2"]
    for path in SELF_DEFEATING:
        command += ["--exclude-path", path]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-2000:]
