"""The kind, generated: whatever the order in which the shop's backend and a browser wrote
addresses for a subject, a verified request reaches that subject exactly when the
requester's address is the one the backend gave last."""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from tests.factories import create_key, create_tenant
from tests.test_consent import grant, publish_policy, record
from tests.test_subject_identity import complete, verified_request

ADDRESSES = ("dave@victim.example", "mallory@attacker.example")
WRITES = st.lists(
    st.tuples(st.sampled_from(("backend", "browser")), st.sampled_from(ADDRESSES)), max_size=4
)


async def scenario(api, n: int, writes, requester: str, names: bool) -> None:
    _, owner = await create_tenant(api, slug=f"gen-{n}")
    await publish_policy(api, owner)
    _, site = await create_key(api, owner, name="site", publishable=True)
    for writer, address in writes:
        body = await record(
            api, owner if writer == "backend" else site, subjectId="s", method="FORM",
            email=address, decisions=grant("analytics.reporting"),
        )  # fmt: skip
        assert body["userErrors"] == []
    fields = {"subjectId": "s"} if names else {}
    request = await verified_request(api, site, requester, type="ACCESS", **fields)
    export = (await complete(api, owner, request["id"]))["export"]

    given_by_backend = [address for writer, address in writes if writer == "backend"]
    covered = bool(given_by_backend) and given_by_backend[-1] == requester
    assert export["subject"]["ids"] == (["s"] if covered else []), (writes, requester, names)
    expected = "CONTACT" if covered and names else "EMAIL"
    assert request["identityProof"] == expected, (writes, requester, names)
    history = export["consent"]["history"]
    assert (len(history) == len(writes)) if covered else history == []


async def test_a_request_reaches_the_subject_only_through_the_backends_address(api, tmp_path):
    set_hypothesis_home_dir(tmp_path / "hypothesis")
    loop = asyncio.get_running_loop()
    counter = itertools.count()

    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(writes=WRITES, requester=st.sampled_from(ADDRESSES), names=st.booleans())
    def check(writes, requester, names) -> None:
        # The app lives on the test's event loop; each example runs there, from this thread.
        future = asyncio.run_coroutine_threadsafe(
            scenario(api, next(counter), writes, requester, names), loop
        )
        future.result()

    try:
        await asyncio.to_thread(check)
    finally:
        set_hypothesis_home_dir(None)
