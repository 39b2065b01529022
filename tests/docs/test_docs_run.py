"""Docs that run: every shell example of README.md and docs/*.md, run as written against the demo.

One suite on PostgreSQL, seeded by `nuanxin seed` as `make run` seeds it, serves the whole module; the files
run one after the other (README.md first), each in its own bash from the repository's root with the
environment `make run` has (NUANXIN_BIND names the suite's address, NUANXIN_DATA_DIR its demo logins). What a
command must answer is stated in the doc itself (tests/docs/runner.py describes the `→` comments and the
`<!-- not run: … -->` marks).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.runner import blocks_of, run_file
from tests.support.suite import RunningSuite

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", DOCS, ids=_name)
def test_every_shell_example_is_run_or_says_why_not(path):
    for block in blocks_of(path.read_text(encoding="utf-8")):  # an expectation that does not parse raises
        if block.skipped is not None:
            assert block.skipped.strip(), f"{_name(path)}:{block.line}: `not run:` needs a reason"
        else:
            assert block.commands, f"{_name(path)}:{block.line}: a shell block with no command"


@pytest.fixture(scope="module")
def demo():
    # As `make run` has it: channels reach public addresses only.
    running = RunningSuite("postgres", env={"NUANXIN_CHANNEL_ALLOWED_NETWORKS": ""}).start()
    try:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
               "LANG": "C.UTF-8", **running.suite.env, "NUANXIN_BIND": f"127.0.0.1:{running.port}"}
        seeded = subprocess.run([sys.executable, "-m", "services.cli", "seed"], cwd=ROOT, env=env,
                                capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        yield running, env
    finally:
        running.stop()


@pytest.mark.integration
@pytest.mark.parametrize("path", DOCS, ids=_name)
def test_the_docs_commands_answer_as_the_docs_say(demo, path, tmp_path):
    running, env = demo
    outcomes = run_file(path, ROOT, env, tmp_path / "run", timeout=300)
    for outcome in outcomes:
        problem = outcome.problem()
        if problem:
            last = outcome.calls[-1] if outcome.calls else None
            pytest.fail(f"{_name(path)}:{outcome.command.line}: {problem}\n--- command\n{outcome.command.source}\n"
                        f"--- output\n{outcome.output[-2500:]}"
                        + (f"\n--- last answer {last[0]}\n{last[2][:1500]}" if last else ""), pytrace=False)
