"""The layers hold: the gateway knows each service only by its contracts, and use-cases and values import no
nameko (followed through every project module they import, read from the source, not by running it)."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from shared import config

ROOT = Path(__file__).resolve().parents[1]
SERVICES = config.BACKENDS
# Where nameko belongs: the service classes, their entrypoints, and shared's framework side.
FRAMEWORK = {"shared.amqp", "shared.providers", "shared.rpc", "shared.service", "shared.timers", "shared.inbox",
             "shared.outbox", "shared.idempotency", "shared.logs", "shared.remote"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_of(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every module `module` imports (top level and inside functions), as dotted names."""
    path = source_of(module)
    if path is None:
        return frozenset()
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names
                         if source_of(f"{node.module}.{alias.name}") is not None)
    # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
    for name in list(found):
        parts = name.split(".")
        found.update(".".join(parts[:i]) for i in range(1, len(parts)))
    return frozenset(found)


def reaches_nameko(module: str) -> list[str] | None:
    """The chain of project imports from `module` to nameko, or None."""
    seen, todo = {module}, [[module]]
    while todo:
        chain = todo.pop()
        for name in imports_of(chain[-1]):
            if name == "nameko" or name.startswith("nameko."):
                return chain + [name]
            if name in seen or source_of(name) is None:
                continue
            seen.add(name)
            todo.append(chain + [name])
    return None


def use_case_modules() -> list[str]:
    modules = []
    for service in SERVICES:
        for path in sorted((ROOT / "services" / service).rglob("*.py")):
            name = module_name(path)
            if "migrations" in path.parts or "entrypoints" in path.parts or path.name in ("service.py",):
                continue
            modules.append(name)
    return modules


VALUES = ["shared.errors", "shared.identity", "shared.db", "shared.paging", "shared.claims", "shared.scope",
          "shared.fields", "shared.inputs", "shared.config"]


@pytest.mark.parametrize("module", VALUES + use_case_modules())
def test_values_and_use_cases_import_no_nameko(module):
    chain = reaches_nameko(module)
    assert chain is None, " → ".join(chain)


def test_the_layers_are_found():
    """The check above looks at real modules (a renamed folder would make it pass on nothing)."""
    modules = use_case_modules()
    assert {"services.bookings.operations", "services.volunteers.actions", "services.volunteers.charity.items",
            "services.notifications.operations"} <= set(modules)
    assert reaches_nameko("services.bookings.service") is not None  # the check does find nameko where it is


@pytest.mark.parametrize("path", sorted((ROOT / "services" / "gateway" / "api").glob("*.py")), ids=lambda p: p.name)
def test_the_gateway_knows_a_service_only_by_its_contracts(path):
    foreign = sorted(name for name in imports_of(module_name(path))
                     if name.startswith(tuple(f"services.{s}." for s in SERVICES))
                     and not name.endswith(".contracts") and source_of(name) is not None
                     and not source_of(name).name == "__init__.py")
    assert foreign == [], f"{path.name} imports a service's internals: {foreign}"
