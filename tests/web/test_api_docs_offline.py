"""/api/docs renders in a real Chromium with every address but this gateway cut off."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_the_api_docs_render_with_the_network_cut(web_ready, suite, page):
    elsewhere: list[str] = []

    def only_this_gateway(route):
        if route.request.url.startswith(suite.base_url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_gateway)
    page.goto(f"{suite.base_url}/api/docs")
    # Swagger UI has fetched the OpenAPI document and drawn one block per operation.
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() > 50
    assert "Nuanxin API" in page.locator(".info .title").inner_text()
    assert elsewhere == []
