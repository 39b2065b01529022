"""Write the gateway's OpenAPI document, made in-process by Flask's test client (nothing needs to run).

Usage, from the repository root: .venv/bin/python web/scripts/export_openapi.py web/openapi.json
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def gateway_app():
    """The gateway's Flask app on a throwaway data folder and database: enough to answer what is made from
    the code alone (the OpenAPI document, the web app's files); nothing else needs to run."""
    with tempfile.TemporaryDirectory(prefix="nuanxin-openapi-") as scratch:
        saved = {k: os.environ.get(k) for k in ("NUANXIN_DATA_DIR", "GATEWAY_DATABASE_URL", "NUANXIN_LOG_LEVEL")}
        os.environ["NUANXIN_DATA_DIR"] = scratch
        os.environ["GATEWAY_DATABASE_URL"] = f"sqlite:///{Path(scratch) / 'gateway.db'}"
        os.environ["NUANXIN_LOG_LEVEL"] = "ERROR"
        os.environ.setdefault("NUANXIN_SECRET_KEY", "openapi-export-only")
        try:
            from services.gateway.app import create_app

            yield create_app(background=False)  # its database is never migrated, and goes with `scratch`
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def openapi_document() -> dict:
    with gateway_app() as app:
        answer = app.test_client().get("/api/openapi.json")
        if answer.status_code != 200:
            raise SystemExit(f"the gateway answered {answer.status_code} for /api/openapi.json")
        return answer.get_json()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    Path(argv[1]).write_text(json.dumps(openapi_document(), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
