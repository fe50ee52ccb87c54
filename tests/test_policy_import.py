"""`charter policy import` on the real policies of our first tenants: byte for byte."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests import backends as tb
from tests.factories import create_tenant

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CHARTER = str(Path(sys.executable).with_name("charter"))
FILES = {  # file -> (slug, locale)
    "influer-uz.en.txt": ("influer", "en"),
    "deepen.uz.txt": ("deepen", "uz"),
    "flussonic-kz.ru.txt": ("flussonic", "ru"),
}


@pytest.mark.parametrize("name", sorted(FILES))
async def test_corpus_policy_imports_publishes_and_comes_back_identical(api, settings, name):
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"corpus not found at {CORPUS}")
    slug, locale = FILES[name]
    await create_tenant(api, slug=slug, defaultLocale=locale)

    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(tb.environment(tb.BACKEND, str(settings.data_dir), settings.database_url))
    process = await asyncio.create_subprocess_exec(
        CHARTER,
        "policy",
        "import",
        str(path),
        "--site",
        slug,
        "--kind",
        "PRIVACY",
        "--locale",
        locale,
        "--publish",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()
    assert "published as version 1" in err.decode()

    body = await api(
        "query($site: String!) { publishedPolicy(site: $site) { version locale title body html } }",
        {"site": slug},
    )
    policy = body["data"]["publishedPolicy"]
    original = path.read_bytes()
    assert policy["body"].encode("utf-8") == original
    assert policy["version"] == 1 and policy["locale"] == locale
    first_line = next(line.strip() for line in original.decode().splitlines() if line.strip())
    assert policy["title"] == first_line[:300]
    assert policy["html"].startswith("<")
