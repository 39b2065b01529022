"""Driving the web app in Chromium: one `WebApp` per test page, with a check at every screen.

`WebApp.screen(name)` is what a test calls each time a screen is up: it waits for the page to settle, runs
axe-core (installed with the app: web/node_modules/axe-core) and fails on any serious or critical
violation, and remembers the screen's name for the screenshot kept when the test fails. In elderly mode it
also measures the screen: text of 18 px and more, tap targets of 60 px and more, line spacing of 1.3 and more.
"""
from __future__ import annotations

import os
import re
import secrets
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
WEB_DIST = ROOT / "web" / "dist"
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
RESULTS = ROOT / "test-results"
DOC_IMAGES = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 375, "height": 812}
BLOCKING = ("serious", "critical")

# Measures what elderly mode promises on the visible screen; answers the offenders (at most a few of each).
ELDERLY_CHECK = """() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'
      && r.bottom > 0 && r.top < innerHeight;
  };
  const label = (el) => (el.getAttribute('aria-label') || el.textContent || el.tagName).trim().slice(0, 40);
  const small = [], tight = [], targets = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el)) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (own) {
      const s = getComputedStyle(el), size = parseFloat(s.fontSize);
      if (size < 17.5) small.push(`${label(el)}: ${size}px`);
      const line = s.lineHeight === 'normal' ? size * 1.2 : parseFloat(s.lineHeight);
      if (line / size < 1.29 && el.getBoundingClientRect().height > line * 1.5) tight.push(`${label(el)}: ${line}/${size}`);
    }
  }
  const tappable = 'button, a[href], input:not([type=hidden]), [role=button], [role=switch], [role=radio], .van-cell--clickable, .van-tabbar-item';
  for (const el of document.querySelectorAll(tappable)) {
    if (!visible(el) || el.closest('[aria-hidden=true]')) continue;
    const target = el.matches('input') ? (el.closest('.van-cell') || el) : el;
    const r = target.getBoundingClientRect();
    if (r.height < 59.5 || r.width < 59.5) targets.push(`${label(el)}: ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  return {small: small.slice(0, 8), tight: tight.slice(0, 8), targets: targets.slice(0, 8)};
}"""


@lru_cache(maxsize=1)
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8") + "\n;undefined"


@dataclass
class Persona:
    """An account of the suite, with the password to sign in through the app."""

    username: str
    password: str
    client: object = None  # tests.support.suite.Client, signed in over HTTP
    display_name: str = ""

    @property
    def id(self) -> int:
        return self.client.id


def new_credentials(prefix: str = "web") -> tuple[str, str]:
    return f"{prefix}{uuid.uuid4().hex[:8]}", secrets.token_urlsafe(12) + "!Aa1"


@dataclass
class WebApp:
    page: Page
    base_url: str
    elderly: bool = False
    screens: list[str] = field(default_factory=list)
    axe_figures: dict[str, int] = field(default_factory=dict)
    console: list[str] = field(default_factory=list)

    def __post_init__(self):
        # What the page said (errors, warnings, failed requests): printed when a test fails.
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self.page.on("pageerror", lambda e: self.console.append(f"page error: {e}"))
        self.page.on("response", lambda r: self.console.append(f"{r.status} {r.request.method} {r.url}")
                     if r.status >= 400 else None)

    # -- moving around --------------------------------------------------------------------------------
    def open(self, path: str, name: str | None = None) -> WebApp:
        self.page.goto(self.base_url + path)
        return self.screen(name or path)

    def screen(self, name: str) -> WebApp:
        """The screen `name` is up: wait for it, check it (axe; elderly measures), remember it."""
        self.screens.append(name)
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_function("() => !document.querySelector('.van-loading, .van-toast--loading')")
        self.check_accessibility(name)
        refused = [line for line in self.console if "Content Security Policy" in line]
        assert not refused, f"the page's policy refused something on {name}: {refused}"
        if self.elderly:
            self.check_elderly(name)
        return self

    # -- checks -----------------------------------------------------------------------------------------
    def check_accessibility(self, name: str) -> None:
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # Evaluated through the browser's devtools protocol: the app's policy allows no inline script.
            self.page.evaluate(_axe_source())
        result = self.page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""")
        blocking = [v for v in result if v["impact"] in BLOCKING]
        self.axe_figures[name] = len(blocking)
        assert not blocking, f"axe on {name}: " + "; ".join(
            f"{v['impact']} {v['id']} ({v['help']}) at {v['nodes']}" for v in blocking)

    def check_elderly(self, name: str) -> None:
        found = self.page.evaluate(ELDERLY_CHECK)
        assert found == {"small": [], "tight": [], "targets": []}, f"elderly mode on {name}: {found}"

    # -- common steps -------------------------------------------------------------------------------------
    def sign_in(self, username: str, password: str, redirect: str | None = None) -> WebApp:
        """Through the sign-in page, as a person would."""
        path = "/login" + (f"?redirect={redirect}" if redirect else "")
        if not self.page.url.startswith(self.base_url + "/login"):
            self.open(path, "sign-in")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.locator("form button[type=submit]").click()
        self.page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
        return self

    def tab(self, name: str):
        """The bottom tab bar's item `name` (home, bookings, charity, inbox, me)."""
        hrefs = {"home": "/", "bookings": "/bookings", "charity": "/charity", "inbox": "/inbox", "me": "/me"}
        return self.page.locator(".van-tabbar-item").nth(list(hrefs).index(name))

    def badge(self):
        return self.tab("inbox").locator(".van-badge")

    def expect_title(self, text: str) -> None:
        expect(self.page.locator("h1.nav-title")).to_have_text(text)

    def document(self, name: str) -> None:
        """With NUANXIN_DOC_SCREENSHOTS=1, keep this screen as docs/img/<name>.png (the README shows them)."""
        if os.environ.get("NUANXIN_DOC_SCREENSHOTS") == "1":
            self.page.screenshot(path=str(DOC_IMAGES / f"{name}.png"))

    def save_screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
