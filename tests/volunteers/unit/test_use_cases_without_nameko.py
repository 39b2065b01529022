"""Use-case modules are plain Python: only the entrypoints and the service know nameko."""
from __future__ import annotations

import subprocess
import sys

import pytest

USE_CASES = ["actions", "contracts", "dispatch", "escalation", "grid_reports", "grids", "lifecycle", "models",
             "seed", "teams", "visits"]


@pytest.mark.parametrize("module", USE_CASES)
def test_importing_a_use_case_module_loads_no_nameko(module):
    code = (f"import sys, services.volunteers.{module}; "
            "sys.exit(1 if any(m == 'nameko' or m.startswith('nameko.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
