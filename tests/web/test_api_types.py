"""The app's API types (web/src/api/schema.d.ts) are those of the gateway's OpenAPI document as it is now:
regenerated here with openapi-typescript (offline, from the document made in-process) and compared. On a
difference, run `make web-types` and commit the result — then the app's build shows what the change broke."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.web.support import ROOT

WEB = ROOT / "web"
COMMITTED = WEB / "src" / "api" / "schema.d.ts"


def test_the_committed_api_types_match_the_openapi_document(tmp_path: Path):
    if not (WEB / "node_modules" / ".bin" / "openapi-typescript").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("web/node_modules is missing (make web)")
        pytest.skip("web/node_modules is missing (make web)")
    document, generated = tmp_path / "openapi.json", tmp_path / "schema.d.ts"
    subprocess.run([sys.executable, str(WEB / "scripts" / "export_openapi.py"), str(document)], check=True,
                   cwd=ROOT, timeout=120)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(["npx", "--no-install", "openapi-typescript", str(document), "--default-non-nullable", "false",
                    "-o", str(generated)], check=True, cwd=WEB, env=env, timeout=120, capture_output=True)
    assert generated.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), \
        "web/src/api/schema.d.ts is not the API as it is: run `make web-types` and commit it"
