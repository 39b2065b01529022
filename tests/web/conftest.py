"""Browser tests of the web app: Playwright (pytest-playwright) drives Debian's Chromium at a phone's
viewport against the real suite serving the built app (web/dist, built by `make test`).

Fixtures for every browser test: `web` (a `support.WebApp` on a fresh page), `persona` (a new account of the
suite, signed in through the app when asked). A failing test leaves a screenshot of its last screen under
test-results/.
"""
from __future__ import annotations

import os
import re

import pytest

from tests.support.suite import RunningSuite
from tests.web.support import AXE, CHROMIUM, RESULTS, VIEWPORT, WEB_DIST, Persona, WebApp, new_credentials


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (make test installs Debian's chromium)"
    if not (WEB_DIST / "index.html").exists():
        return "the web app is not built (make web)"
    if not AXE.exists():
        return "web/node_modules is missing (make web)"
    return None


@pytest.fixture(scope="session")
def web_ready():
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # The machine's Chromium, never a downloaded build.
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT, "device_scale_factor": 2, "is_mobile": True,
            "has_touch": True, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def web(web_ready, suite: RunningSuite, page, request) -> WebApp:
    app = WebApp(page=page, base_url=suite.base_url)
    yield app
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        app.save_screenshot(RESULTS / f"{name}.png")
        print(f"screens: {app.screens}\nthe page said:\n" + "\n".join(app.console[-40:]))


@pytest.fixture
def persona(suite: RunningSuite, web: WebApp):
    """`persona(roles=..., groups=..., locale=..., elderly=..., sign_in=True)`: a new account, signed in
    through the app's sign-in page unless `sign_in=False`."""

    def make(roles=("resident",), groups=(), locale: str = "zh-CN", elderly: bool = False,
             sign_in: bool = True, grids=(), timezone: str = "Asia/Shanghai") -> Persona:
        username, _ = new_credentials()
        client = suite.user(roles=roles, groups=groups, username=username, locale=locale, grids=grids,
                            timezone=timezone)
        if elderly:
            assert client.patch("/me", json={"elderly_mode": True}).status_code == 200
        who = Persona(username=username, password=client.user["password"], client=client,
                      display_name=client.user["display_name"])
        if sign_in:
            web.sign_in(who.username, who.password)
        web.elderly = elderly  # measured from the first screen that knows the account
        return who

    return make
