"""The browser harness itself: Debian's Chromium, driven by playwright-core, loads a page
from a real `charter serve` (the ground every browser test stands on)."""

from __future__ import annotations

from tests import node
from tests.servers import serve


async def test_chromium_loads_a_page_from_charter(settings):
    node.installed(browser=True)
    async with serve(settings) as http:
        lines = await node.run("smoke.mjs", f"{http.base_url}/healthz")
    assert lines == [{"status": 200, "title": ""}]
