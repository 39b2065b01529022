"""schemathesis hooks for tests/gateway/test_fuzz.py (loaded through SCHEMATHESIS_HOOKS).

A generated account id that names one of the fuzzers' own accounts is sent to a sacrificial account
instead: deactivating the fuzzer, or taking its roles, would turn every later case into a 401 and test
nothing. Every other generated value, invalid ones included, is sent as generated.
"""
from __future__ import annotations

import os

import schemathesis

PROTECTED = {int(i) for i in os.environ.get("NUANXIN_FUZZ_PROTECTED_IDS", "").split(",") if i}
SACRIFICE = os.environ.get("NUANXIN_FUZZ_SACRIFICE_ID")


@schemathesis.hook
def before_call(context, case, **kwargs):
    parameters = case.path_parameters or {}
    value = parameters.get("account_id")
    if SACRIFICE and isinstance(value, int) and not isinstance(value, bool) and value in PROTECTED:
        parameters["account_id"] = int(SACRIFICE)
