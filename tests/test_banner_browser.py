"""The consent banner and the privacy center in a real browser (Debian's Chromium), on
pages served from the tenants' own domains under a strict CSP, checked in the ledger
through GraphQL.

One Charter server and one tenant web server for the module; one browser run for the
banner's scenarios (tests/js/banner.mjs) and one for the privacy center
(tests/js/center.mjs). `CHARTER_UPDATE_SCREENSHOTS=1` writes the screenshots the README
shows into docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import node
from tests.conftest import Api
from tests.outbound import smtp_server
from tests.servers import serve
from tests.site_pages import ADS, TRANSLATIONS, code_in, converse, make_tenant, tenant_sites
from tests.test_worker import start_worker

DOCS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
STATE = "query($s: String!) { consentState(subjectId: $s) { purpose granted method explicit policyVersion } }"
HISTORY = """query($s: String!) { consentHistory(subjectId: $s) {
  edges { node { method locale policyVersion decisions { purpose granted method } } } } }"""


@dataclass
class World:
    api: Api
    owners: dict[str, str]
    charter: str  # as the browser reaches it
    banner: dict[str, dict]  # scenario -> what the browser saw
    config: dict


@pytest.fixture(scope="module")
async def world(settings):
    node.installed(browser=True)
    async with serve(settings) as http:
        api = Api(http)
        charter_port = http.base_url.port
        charter = f"http://charter.example:{charter_port}"
        tenants = {
            "bazaar": await make_tenant(
                api, "bazaar", jurisdictions=["EU"], locales=["ru", "uz", "ky"]
            ),
            "savdo": await make_tenant(api, "savdo", jurisdictions=["US-CA"], locales=[]),
            "notice": await make_tenant(
                api, "notice", jurisdictions=["US-CA"], locales=[], model="IMPLIED"
            ),
        }
        async with tenant_sites(
            {
                f"{slug}.example": {
                    "name": slug.title(),
                    "site": f"{slug}.example",
                    "key": key,
                    "charter": charter,
                }
                for slug, (_, key) in tenants.items()
            }
        ) as site_port:
            config = {
                "hostRules": "MAP *.example 127.0.0.1",
                "charterDirect": str(http.base_url).rstrip("/"),
                "charterPort": charter_port,
                "sites": {slug: f"http://{slug}.example:{site_port}/" for slug in tenants},
                "owner": tenants["bazaar"][0],
                "translations": TRANSLATIONS,
                "screenshots": str(DOCS) if os.environ.get("CHARTER_UPDATE_SCREENSHOTS") else None,
            }
            if os.environ.get("CHARTER_BANNER_SCENARIOS"):  # while working on one
                config["scenarios"] = os.environ["CHARTER_BANNER_SCENARIOS"].split(",")
            lines = await node.run("banner.mjs", json.dumps(config), seconds=300)
            banner = {line.pop("scenario"): line for line in lines}
            yield World(
                api=api,
                owners={slug: owner for slug, (owner, _) in tenants.items()},
                charter=charter,
                banner=banner,
                config=config,
            )


def seen(world: World, scenario: str) -> dict:
    found = world.banner[scenario]
    assert "error" not in found, found["error"]
    return found


async def state(world: World, tenant: str, subject: str) -> dict[str, dict]:
    body = await world.api(STATE, {"s": subject}, token=world.owners[tenant])
    return {row.pop("purpose"): row for row in body["data"]["consentState"]}


async def history(world: World, tenant: str, subject: str) -> list[dict]:
    body = await world.api(HISTORY, {"s": subject}, token=world.owners[tenant])
    return [edge["node"] for edge in body["data"]["consentHistory"]["edges"]]


async def test_reject_all_records_refusals_and_a_reload_asks_nothing(world):
    saw = seen(world, "reject")
    assert saw["shown"] is True
    assert [b["text"] for b in saw["buttons"]] == ["Accept all", "Reject all", "Customise"]
    assert len({b["look"] for b in saw["buttons"]}) == 1  # equal prominence
    assert saw["before"]["analytics"] == 0 and saw["before"]["get"]["analytics"] is False
    assert saw["after"]["analytics"] == 0 and saw["after"]["ads"] is False
    assert saw["again"] is False  # a reload shows no banner
    assert saw["before"]["csp"] == saw["after"]["csp"] == saw["reloaded"]["csp"] == []
    record = saw["saved"]
    assert record["m"] == "BANNER" and record["v"] == 1 and record["l"] == "en"
    assert sorted(record["r"]) == sorted(["analytics.reporting", ADS]) and record["g"] == []
    assert await state(world, "bazaar", record["s"]) == {
        "analytics.reporting": {
            "granted": False,
            "method": "BANNER",
            "explicit": True,
            "policyVersion": 1,
        },
        ADS: {"granted": False, "method": "BANNER", "explicit": True, "policyVersion": 1},
    }
    [event] = await history(world, "bazaar", record["s"])
    assert event["locale"] == "en" and event["policyVersion"] == 1


async def test_customise_records_a_mix_and_runs_only_what_is_allowed(world):
    saw = seen(world, "customise")
    assert saw["shown"] and saw["open"]
    assert saw["title"] == "Ваш выбор о конфиденциальности"  # noqa: RUF001 (Russian)
    assert saw["before"]["analytics"] == 0 and saw["before"]["external"] is False
    # A tagged script runs once its purpose is granted, and only then; the other does not.
    assert saw["after"]["analytics"] == 1 and saw["after"]["external"] is True
    assert saw["after"]["ads"] is False
    assert saw["after"]["get"] == {"analytics": True, "ads": False, "analyticsFamily": True}
    assert saw["after"]["events"] >= 2  # the change event: on load, and on the choice
    assert saw["again"] is False and saw["reloaded"]["analytics"] == 1
    assert saw["after"]["csp"] == []
    record = saw["saved"]
    assert record["l"] == "ru"
    assert await state(world, "bazaar", record["s"]) == {
        "analytics.reporting": {
            "granted": True,
            "method": "BANNER",
            "explicit": True,
            "policyVersion": 1,
        },
        ADS: {"granted": False, "method": "BANNER", "explicit": True, "policyVersion": 1},
    }
    [event] = await history(world, "bazaar", record["s"])
    assert event["locale"] == "ru"


async def test_the_banner_works_from_the_keyboard_alone_and_passes_axe(world):
    saw = seen(world, "keyboard")
    serious = [
        v for v in saw["axeBanner"] + saw["axeDialog"] if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    # First in the tab order: the policy link, then the three choices.
    assert saw["order"] == ["a#", "accept", "reject", "customise"]
    assert saw["opened"] is True and saw["first"]["inDialog"] is True
    assert saw["closedByEscape"] is True and saw["back"]["what"] == "customise"
    assert all(step["inDialog"] for step in saw["trapped"])  # focus kept in the dialog
    record = saw["saved"]
    assert await state(world, "bazaar", record["s"]) == {
        "analytics.reporting": {
            "granted": True,
            "method": "BANNER",
            "explicit": True,
            "policyVersion": 1,
        },
        ADS: {"granted": False, "method": "BANNER", "explicit": True, "policyVersion": 1},
    }


async def test_a_lost_answer_is_retried_and_recorded_once(world):
    saw = seen(world, "retry")
    assert saw["dropped"] == 1
    events = await history(world, "bazaar", saw["saved"]["s"])
    assert len(events) == 1 and events[0]["method"] == "BANNER"


async def test_gpc_under_us_ca_refuses_advertising_without_asking(world):
    saw = seen(world, "gpc")
    signal = saw["signal"]
    assert signal["m"] == "GPC" and signal["r"] == [ADS] and signal["c"] is False
    assert saw["shown"] is True  # analytics is still the person's to decide
    assert saw["before"]["get"]["ads"] is False and saw["before"]["ads"] is False
    assert saw["after"]["get"] == {"analytics": True, "ads": False, "analyticsFamily": True}
    assert saw["after"]["ads"] is False
    subject = saw["saved"]["s"]
    assert subject == signal["s"]
    events = await history(world, "savdo", subject)
    assert events[-1]["method"] == "GPC"  # oldest last: the signal came first, unasked
    assert events[-1]["decisions"] == [{"purpose": ADS, "granted": False, "method": "GPC"}]
    now = await state(world, "savdo", subject)
    assert now[ADS] == {"granted": False, "method": "GPC", "explicit": False, "policyVersion": 1}
    assert now["analytics.reporting"]["granted"] is True


async def test_implied_consent_gets_a_notice_recorded_as_implied(world):
    saw = seen(world, "implied")
    assert saw["shown"] is True and saw["labels"] == ["OK", "Opt out", "Customise"]
    said_ok = await state(world, "notice", saw["saved"]["s"])
    assert said_ok["analytics.reporting"] == {
        "granted": True, "method": "IMPLIED", "explicit": False, "policyVersion": 1,
    }  # fmt: skip
    assert saw["noticed"] is True and saw["none"] is None
    went_on = await state(world, "notice", saw["continued"]["s"])
    assert went_on["analytics.reporting"]["method"] == "IMPLIED"
    assert saw["state"]["analytics"] == 1


async def test_banner_speaks_en_ru_uz_ky(world):
    saw = seen(world, "screenshots")
    assert saw == {
        "en": {"lang": "en", "accept": "Accept all"},
        "ru": {"lang": "ru", "accept": "Принять все"},
        "uz": {"lang": "uz", "accept": "Barchasiga roziman"},
        "ky": {"lang": "ky", "accept": "Баарын кабыл алуу"},
    }


async def test_a_material_publish_brings_the_banner_back(world):
    saw = seen(world, "material")
    assert saw["afterReload"] is False
    assert saw["minor"] == 2 and saw["afterMinor"] is False and saw["stillGranted"] is True
    assert saw["major"] == 3 and saw["afterMaterial"] is True
    # Until asked again, a stale grant allows nothing.
    assert saw["staleGranted"] is False and saw["ranOnStale"] == 0
    now = await state(world, "bazaar", saw["second"]["s"])
    assert now["analytics.reporting"]["policyVersion"] == 3


async def test_the_privacy_center_sends_and_confirms_in_russian_and_uzbek(world, settings):
    center = f"http://bazaar.example:{world.config['charterPort']}/t/bazaar.example/privacy"
    with smtp_server() as (smtp_port, mailbox):
        worker = await start_worker(settings, smtp_port)

        async def answer(question: dict) -> dict:
            for _ in range(400):  # the worker sweeps every second
                mine = [m for m in mailbox.received() if m["To"] == question["email"]]
                if mine:
                    return {"code": code_in(mine[-1]), "subject": mine[-1]["Subject"]}
                await asyncio.sleep(0.05)
            pytest.fail(f"no e-mail reached {question['email']}")

        try:
            lines = await converse(
                "center.mjs",
                {
                    "hostRules": world.config["hostRules"],
                    "center": center,
                    "emailLabel": {"ru-RU": "Ваш адрес электронной почты",
                                   "uz": "Elektron pochta manzilingiz"},
                    "screenshots": world.config["screenshots"],
                },
                answer,
            )  # fmt: skip
        finally:
            worker.terminate()
            await worker.wait()
    saw = {line.pop("scenario"): line for line in lines}
    for name, line in saw.items():
        assert "error" not in line, (name, line["error"])
    ru, uz = saw["ru"], saw["uz"]
    assert ru["lang"] == "ru" and ru["heading"].startswith("Центр конфиденциальности")
    assert ru["asked"] == "Подтвердите запрос" and ru["done"]["heading"] == "Ваш запрос подтверждён"
    assert "Мы ответим не позднее" in ru["done"]["text"] and ru["failed"] == []
    assert uz["scripts"] is False and uz["lang"] == "uz"
    assert uz["asked"] == "Soʻrovingizni tasdiqlang"  # noqa: RUF001 (Uzbek letters)
    assert uz["done"]["heading"] == "Soʻrovingiz tasdiqlandi"  # noqa: RUF001
    assert "gacha javob beramiz." in uz["done"]["text"]
    requests = await world.api(
        "{ subjectRequests { edges { node { type status locale dueAt } } } }",
        token=world.owners["bazaar"],
    )
    found = {(n["node"]["type"], n["node"]["status"], n["node"]["locale"])
             for n in requests["data"]["subjectRequests"]["edges"]}  # fmt: skip
    assert {("ERASURE", "RECEIVED", "ru"), ("ACCESS", "RECEIVED", "uz")} <= found
    for locale, page in saw["screenshots"].items():
        assert page["lang"] == locale
        assert [v for v in page["axe"] if v["impact"] in ("serious", "critical")] == []
