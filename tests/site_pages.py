"""A tenant's own web pages for the browser tests: the page with its one script tag and
tagged scripts under a strict CSP, the tenants behind it, and a way to answer a browser
script's questions (the e-mailed code) while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests import node
from tests.factories import create_draft, create_key, create_tenant, publish
from tests.outbound import free_port

ADS = "marketing.advertising.third_party.targeted"
PURPOSES = [
    {"key": "essential.service", "legalBasis": "CONTRACT", "description": "Your basket"},
    {"key": "analytics.reporting", "legalBasis": "CONSENT", "description": "Visit counts"},
    {"key": ADS, "legalBasis": "CONSENT", "description": "Ads from our partners"},
]
TRANSLATIONS = [
    {"locale": "en", "title": "Privacy policy", "body": "We keep **little** about you."},
    {"locale": "ru", "title": "Политика конфиденциальности", "body": "Мы храним о вас **мало**."},  # noqa: RUF001 (Russian)
    {
        "locale": "uz",
        "title": "Maxfiylik siyosati",
        "body": "Biz siz haqingizda **kam** saqlaymiz.",
    },
    {"locale": "ky", "title": "Купуялуулук саясаты", "body": "Биз сиз тууралуу **аз** сактайбыз."},
]
# A tenant's page: the one script tag, tagged scripts, and a CSP as strict as they come.
PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{name}</title>
<script src="{charter}/t/{site}/consent.js" data-key="{key}" async></script></head>
<body>
<header><h1>{name}</h1><nav aria-label="Site"><a href="/">Home</a>
<a href="#" data-charter-preferences>Privacy choices</a></nav></header>
<main><p>Welcome to {name}.</p>
<script type="text/plain" data-charter-purpose="analytics.reporting" nonce="n0nce">
window.analyticsRan = (window.analyticsRan || 0) + 1;</script>
<script type="text/plain" data-charter-purpose="analytics.reporting" src="/analytics.js"></script>
<script type="text/plain" data-charter-purpose="{ads}" nonce="n0nce">window.adsRan = true;</script>
</main></body></html>"""
CSP = (
    "default-src 'none'; script-src 'self' {charter} 'nonce-n0nce'; style-src {charter}; "
    "connect-src {charter}; img-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@contextlib.asynccontextmanager
async def tenant_sites(pages: dict[str, dict]):
    """The tenants' own web server: one page per Host, with its strict CSP."""

    async def home(request: Request) -> Response:
        host = request.headers["host"].split(":")[0]
        page = pages[host]
        return HTMLResponse(
            PAGE.format(ads=ADS, **page),
            headers={"Content-Security-Policy": CSP.format(charter=page["charter"])},
        )

    async def analytics(request: Request) -> Response:
        return Response("window.externalAnalyticsRan = true;", media_type="text/javascript")

    app = Starlette(routes=[Route("/", home), Route("/analytics.js", analytics)])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def make_tenant(api, slug, *, jurisdictions, locales, model=None):
    _, owner = await create_tenant(
        api,
        slug=slug,
        name=slug.title(),
        defaultLocale="en",
        locales=locales,
        jurisdictions=jurisdictions,
        domains=[f"{slug}.example"],
    )
    if model:
        body = await api(
            "mutation($m: ConsentModel) { updateBranding(input: {consentModel: $m}) { userErrors { code } } }",
            {"m": model},
            token=owner,
        )
        assert body["data"]["updateBranding"]["userErrors"] == []
    draft = await create_draft(
        api,
        owner,
        translations=[t for t in TRANSLATIONS if t["locale"] in ["en", *locales]],
        disclosures={
            "purposes": PURPOSES,
            "controller": {
                "name": f"{slug.title()} LLC",
                "email": f"privacy@{slug}.example",
                "address": "Bishkek",
                "phone": "+996 312 00 00 00",
            },
        },
    )
    await publish(api, owner, draft["id"])
    _, key = await create_key(api, owner, name="site", publishable=True)
    return owner, key


CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{10}\b")  # tenants.subject_requests.tokens.ALPHABET


def code_in(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return CODE.findall(text)[-1]


async def converse(script: str, config: dict, answer) -> list[dict]:
    """Runs a browser script that asks questions on stdout ({"need": ...}) and reads the
    answers on stdin; returns its other JSON lines."""
    process = await asyncio.create_subprocess_exec(
        "node", str(node.JS / script), json.dumps(config), cwd=node.JS,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lines = []
    try:
        async with asyncio.timeout(120):
            while raw := await process.stdout.readline():
                if not raw.startswith(b"{"):
                    continue
                line = json.loads(raw)
                if "need" in line:
                    process.stdin.write(json.dumps(await answer(line)).encode() + b"\n")
                    await process.stdin.drain()
                else:
                    lines.append(line)
            await process.wait()
    except TimeoutError:
        process.kill()
        await process.wait()
        pytest.fail(
            f"{script} took too long: {lines}\n{(await process.stderr.read()).decode()[-4000:]}"
        )
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0:
        pytest.fail(
            f"{script} exited {process.returncode}:\n{(await process.stderr.read()).decode()[-4000:]}"
        )
    return lines
