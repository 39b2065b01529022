"""The web app (web/, built into web/dist) served at `/`; every path outside the API falls back to its
index.html, so the app's own routes (/inbox, /me…) load from a bookmark or a reload.

Vite names each built asset after its content (assets/index-3f2a9c.js): those are cached for a year and
never revalidated. Everything else — index.html, the service worker, the manifest — is revalidated on
every load, so a new build reaches users at their next visit. Without a build the API works as ever and `/`
says how to build the app.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, send_from_directory
from werkzeug.routing import PathConverter

from shared import config

ASSET_PREFIX = "assets/"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

class AppPath(PathConverter):
    """Any path but the API's and the health's: their unknown paths stay a 404 (or 405) problem document."""

    regex = r"(?!(?:api|healthz)(?:/|$))[^/].*?"
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Nuanxin</title></head>
<body><h1>Nuanxin</h1>
<p>The web app is not built on this server. Build it with <code>make run</code> (or <code>make web</code>)
from the repository; the API answers at <a href="/api/v1">/api/v1</a>, its docs at
<a href="/api/docs">/api/docs</a>.</p></body></html>
"""

blp = Blueprint("webapp", __name__)


@blp.record_once
def _converter(state):
    state.app.url_map.converters["app_path"] = AppPath


def web_dir() -> Path:
    """The built app: NUANXIN_WEB_DIR, else web/dist of this source tree."""
    configured = config.env("NUANXIN_WEB_DIR", "")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "web" / "dist"


def _index():
    folder = web_dir()
    if not (folder / "index.html").is_file():
        response = current_app.response_class(NOT_BUILT, status=503, mimetype="text/html")
        response.headers["Retry-After"] = "60"
        response.headers["Cache-Control"] = "no-store"
        return response
    response = send_from_directory(folder, "index.html", max_age=0, conditional=True)
    response.headers["Cache-Control"] = REVALIDATE
    return response


@blp.get("/")
def index():
    return _index()


@blp.get("/<app_path:path>")
def file_or_route(path: str):
    if "." not in path.rsplit("/", 1)[-1]:
        return _index()  # one of the app's routes
    # A file of the build; a missing one is a 404, not the app's page, so a stale asset shows as such.
    response = send_from_directory(web_dir(), path, max_age=0, conditional=True)
    response.headers["Cache-Control"] = IMMUTABLE if path.startswith(ASSET_PREFIX) else REVALIDATE
    return response
