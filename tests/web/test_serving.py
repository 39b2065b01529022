"""How the gateway serves the built web app, in-process over a small stand-in build (no suite needed):
hashed assets for a year, index.html revalidated, client routes fall back to index.html, the API's paths
stay the API's, and without a build `/` says how to make one."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    from web.scripts.export_openapi import gateway_app

    with gateway_app() as app:
        yield app


@pytest.fixture
def built(tmp_path, monkeypatch):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Nuanxin</title>", encoding="utf-8")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)", encoding="utf-8")
    (tmp_path / "sw.js").write_text("self.addEventListener('fetch', () => {})", encoding="utf-8")
    monkeypatch.setenv("NUANXIN_WEB_DIR", str(tmp_path))
    return tmp_path


def test_the_app_and_its_routes_answer_index_html_revalidated(gateway, built):
    client = gateway.test_client()
    for path in ("/", "/inbox", "/me/notifications", "/bookings/12"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.mimetype == "text/html" and b"Nuanxin" in answer.data
        assert answer.headers["Cache-Control"] == "no-cache"
        policy = answer.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "http" not in policy
        assert "camera=(self)" in answer.headers["Permissions-Policy"]


def test_hashed_assets_are_cached_for_a_year_and_the_service_worker_never(gateway, built):
    client = gateway.test_client()
    asset = client.get("/assets/index-abc123.js")
    assert asset.status_code == 200
    assert asset.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and worker.headers["Cache-Control"] == "no-cache"
    assert "connect-src 'self'" in worker.headers["Content-Security-Policy"]
    assert client.get("/assets/index-gone.js").status_code == 404
    for escape in ("/assets/%2e%2e/%2e%2e/etc/passwd", "/assets/..%2f..%2f..%2fetc%2fhosts"):
        answer = client.get(escape)
        assert answer.status_code == 404 or b"Nuanxin" in answer.data, escape
        assert b"root:" not in answer.data and b"localhost" not in answer.data


def test_the_api_keeps_its_own_paths(gateway, built):
    client = gateway.test_client()
    for path in ("/api/v1/no-such-thing", "/api/nothing", "/healthz/x"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.mimetype == "application/problem+json"
    assert client.post("/api/v1/no-such-thing", json={}).status_code == 404
    assert client.get("/api/v1").get_json()["openapi"] == "/api/openapi.json"
    assert client.get("/api").get_json()["docs"] == "/api/docs"
    assert client.get("/api/v1").headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_without_a_build_the_root_says_how_to_build_it(gateway, tmp_path, monkeypatch):
    monkeypatch.setenv("NUANXIN_WEB_DIR", str(tmp_path / "missing"))
    answer = gateway.test_client().get("/inbox")
    assert answer.status_code == 503
    assert b"make run" in answer.data and b"/api/v1" in answer.data
    assert gateway.test_client().get("/api/v1").status_code == 200


def test_the_stand_in_gateway_starts_no_background_threads(gateway):
    """Its database is a throwaway, never migrated: an outbox relay on it would fail every second, and go on
    failing after the folder is gone."""
    import threading

    assert [t.name for t in threading.enumerate() if t.name.startswith("gateway-")] == []
