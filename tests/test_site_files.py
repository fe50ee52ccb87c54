"""The files a tenant's page loads from Charter: consent.js at its fixed path (ETag,
short cache), content-hashed stylesheets (immutable), gzip, and the size limit."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
from pathlib import Path

import pytest

from server.site.assets import ASSETS, SCRIPT_LIMIT_GZIPPED
from tests import node
from tests.factories import create_tenant

CHARTER = str(Path(sys.executable).with_name("charter"))


@pytest.fixture
async def shop(api):
    _, owner = await create_tenant(api, slug="shop", domains=["shop.example"])
    return owner


def test_the_bundle_stays_under_15_kb_gzipped_and_the_build_says_so():
    built = subprocess.run([CHARTER, "assets"], capture_output=True, text=True, check=True)
    line = next(row for row in built.stdout.splitlines() if row.startswith("consent."))
    printed = int(re.search(r"gzipped\s+([\d,]+) B", line).group(1).replace(",", ""))
    assert printed == len(gzip.compress(ASSETS["consent.js"].body, 9, mtime=0))
    assert printed <= SCRIPT_LIMIT_GZIPPED == 15 * 1024


def test_the_joined_parts_are_one_valid_script(tmp_path):
    """The build joins static/consent/*.js into one function scope: node parses it."""
    node.installed()
    bundle = tmp_path / "consent.js"
    bundle.write_bytes(ASSETS["consent.js"].body)
    checked = subprocess.run(["node", "--check", str(bundle)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert ASSETS["consent.js"].body.rstrip().endswith(b"})();")


def test_the_script_knows_its_stylesheets_hashed_name():
    script = ASSETS["consent.js"].body.decode()
    assert ASSETS["banner.css"].hashed in script and "__BANNER_CSS__" not in script


def test_no_eval_no_inline_style_no_other_host():
    """What a strict CSP forbids, and the promise to talk to Charter alone."""
    script = ASSETS["consent.js"].body.decode()
    for forbidden in ("eval(", "new Function", "innerHTML", "setAttribute(\"style\"",
                      "document.write", ".cssText"):  # fmt: skip
        assert forbidden not in script, forbidden
    hosts = set(re.findall(r"https?://[^\s\"'/]+", script))
    assert hosts <= {"https://CHARTER"}, hosts  # only the comment's placeholder
    assert "fetch(ORIGIN" in script and script.count("fetch(") == 2


async def test_consent_js_at_its_fixed_path(client, shop):
    for site in ("shop", "shop.example", "SHOP.example"):
        script = await client.get(f"/t/{site}/consent.js", headers={"Accept-Encoding": "gzip"})
        assert script.status_code == 200
        assert script.headers["content-type"] == "text/javascript; charset=utf-8"
        assert script.headers["content-encoding"] == "gzip"
        assert script.content == ASSETS["consent.js"].body  # httpx undoes the gzip
        assert (
            script.headers["cache-control"] == "public, max-age=300, stale-while-revalidate=86400"
        )
        assert script.headers["cross-origin-resource-policy"] == "cross-origin"
        assert "Accept-Encoding" in script.headers["vary"]
    again = await client.get(
        "/t/shop/consent.js", headers={"If-None-Match": f'W/{script.headers["etag"]}, "x"'}
    )
    assert again.status_code == 304 and again.content == b""
    plain = await client.get("/t/shop/consent.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert (await client.get("/t/nobody/consent.js")).status_code == 404


async def test_hashed_files_are_immutable_and_only_by_their_hash(client, shop):
    for name in ("banner.css", "center.css", "consent.js"):
        item = ASSETS[name]
        served = await client.get(f"/t/shop/assets/{item.hashed}")
        assert served.status_code == 200 and served.content == item.body
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert (await client.get(f"/t/shop/assets/{name}")).status_code == 404
    assert (await client.get("/t/shop/assets/nothing.0123456789abcdef.css")).status_code == 404


async def test_the_tenants_theme_is_its_colours(api, client, shop):
    page = await client.get("/t/shop/privacy")
    theme = re.search(r"/t/shop/assets/(theme\.[0-9a-f]{16}\.css)", page.text).group(1)
    served = await client.get(f"/t/shop/assets/{theme}")
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert b"--c-accent:#1d4ed8" in served.content
    await api(
        'mutation { updateBranding(input: {colors: {accent: "#7c2d12"}}) { userErrors { code } } }',
        token=shop,
    )
    old = await client.get(f"/t/shop/assets/{theme}")
    assert b"--c-accent:#7c2d12" in old.content and old.headers["cache-control"] == "no-cache"
    page = await client.get("/t/shop/privacy")
    assert theme not in page.text
