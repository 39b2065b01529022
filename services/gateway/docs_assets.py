"""The API's own front door: `/api` and `/api/v1` name the API, its docs and the health (`/` is the web app,
services/gateway/webapp.py); `/api/docs` runs on Swagger UI files that come with the flask-swagger-ui package,
so the docs need no network."""
from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, jsonify, send_from_directory

ASSETS_PATH = "/api/docs/assets"
ASSETS_DIR = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
# The files keep their names across releases of the package: cached for a day, revalidated by ETag.
ASSETS_MAX_AGE = 86400

blp = Blueprint("docs", __name__)


@blp.get(f"{ASSETS_PATH}/<path:filename>")
def asset(filename: str):
    response = send_from_directory(ASSETS_DIR, filename, max_age=ASSETS_MAX_AGE, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={ASSETS_MAX_AGE}"
    return response


@blp.get("/api")
@blp.get("/api/v1")
def index():
    return jsonify({
        "name": "Nuanxin API",
        "api": "/api/v1",
        "openapi": "/api/openapi.json",
        "docs": "/api/docs",
        "health": "/healthz",
    })
