"""Weight: a rider's phone on mobile data loads the first screen's JavaScript — the entry script of the
built index.html and every module it preloads — in at most 150 KB gzip. Sizes from the build's files."""
from __future__ import annotations

import gzip
import re

import pytest

from tests.web.support import WEB_DIST

BUDGET = 150 * 1024


def first_screen_scripts() -> list[str]:
    index = (WEB_DIST / "index.html").read_text(encoding="utf-8")
    entry = re.findall(r'<script type="module"[^>]*src="/([^"]+)"', index)
    preloaded = re.findall(r'<link rel="modulepreload"[^>]*href="/([^"]+)"', index)
    return entry + preloaded


def test_the_first_screen_javascript_is_at_most_150_kb_gzip(web_ready):
    scripts = first_screen_scripts()
    assert scripts and all(s.endswith(".js") for s in scripts), scripts
    sizes = {s: len(gzip.compress((WEB_DIST / s).read_bytes(), compresslevel=9)) for s in scripts}
    total = sum(sizes.values())
    print(f"first screen JavaScript: {total / 1024:.1f} KB gzip in {len(sizes)} files: {sizes}")
    assert total <= BUDGET, f"{total / 1024:.1f} KB gzip > 150 KB: {sizes}"


@pytest.fixture(scope="module")
def web_ready():
    if not (WEB_DIST / "index.html").exists():
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("the web app is not built (make web)")
        pytest.skip("the web app is not built (make web)")
