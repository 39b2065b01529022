"""Fuzzing: schemathesis drives every operation of the live OpenAPI document with generated input.

Signed in as a plain resident (least privilege: generated ids must not deactivate or rewrite the accounts
other tests rely on), with a fixed seed and a bounded number of examples per operation. It asserts no
5xx, and that every answer — success or problem — conforms to the status codes, content types, headers
and schemas the document promises. Anything it finds is a bug in the endpoint or in its documentation.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from sqlalchemy import text

pytestmark = pytest.mark.integration
# Bounded so the whole run stays well under four minutes on a loaded CI machine.
MAX_EXAMPLES = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 6}
SEED = 20240916  # Bebinca's landfall
# Ending the fuzzer's own session would turn every later case into a 401 and test nothing.
SELF_DEFEATING = ("/api/v1/auth/logout", "/api/v1/me/password")


@pytest.fixture(scope="module")
def api_schema(suite):
    fuzzer = suite.user()
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        # Declared as the document's bearerAuth scheme, so schemathesis also probes each secured
        # operation without the token and with a wrong one, and expects 401.
        "auth": {"openapi": {"bearerAuth": {"bearer": fuzzer.token}}},
        "generation": {"max-examples": MAX_EXAMPLES[GenerationMode.POSITIVE], "mode": "all",
                       "deterministic": True},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": False},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "checks": {
            "not_a_server_error": {"enabled": True},
            "status_code_conformance": {"enabled": True},
            "content_type_conformance": {"enabled": True},
            "response_schema_conformance": {"enabled": True},
            "response_headers_conformance": {"enabled": True},
            "negative_data_rejection": {"enabled": True},
            # Generated ids name nothing, and a resident may not do what staff do: 404/403 are right answers.
            "positive_data_acceptance": {"enabled": False},
            "use_after_free": {"enabled": False},
            "ensure_resource_availability": {"enabled": False},
        },
        "request-timeout": 30,
    })
    yield schemathesis.openapi.from_url(f"{suite.base_url}/api/openapi.json", config=config).exclude(
        path=list(SELF_DEFEATING))
    # Generated sign-ins fail by the hundred from this one address: lift the throttle for the tests after.
    with suite.database("gateway").transaction() as session:
        session.execute(text("DELETE FROM login_throttle"))


def _fuzz(operation, mode: GenerationMode) -> None:
    @settings(max_examples=MAX_EXAMPLES[mode], derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        case.call_and_validate()

    run()


def _fuzz_operation(operation) -> list[str]:
    failures = []
    for mode in GenerationMode:
        try:
            _fuzz(operation, mode)
        except (Exception, BaseExceptionGroup) as exc:  # collect them all: one report names every broken one
            failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return failures


def test_no_server_error_and_every_answer_as_documented(api_schema):
    # Driven by hand rather than through schemathesis's pytest plugin, whose lazy-fixture subtests do not
    # run on this pytest; every operation still gets its own bounded, seeded Hypothesis run per mode.
    # One operation at a time: schemathesis's generators are not safe to share between threads.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    failures = [failure for operation in operations for failure in _fuzz_operation(operation)]
    assert not failures, "\n\n".join(failures)
