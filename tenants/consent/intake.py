"""Checking consent input against the law and the policy it was given under.

Each input becomes a ledger Entry or a list of problems; nothing touches the database
except the catalog of published versions, loaded once per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from tenants import validation
from tenants.chunks import PACE, paced_chunks
from tenants.consent.evidence import clean_user_agent, truncate_ip
from tenants.consent.ledger import Entry
from tenants.consent.methods import ConsentMethod
from tenants.errors import ErrorCode, Problems
from tenants.policies.catalog import Catalog
from tenants.policies.kinds import PolicyKind
from tenants.policies.locales import choose
from tenants.rules import JURISDICTIONS
from tenants.tenancy.models import Tenant

# Under GPC these uses are sale/sharing and targeted advertising: the signal opts out.
GPC_PREFIXES = ("marketing.advertising", "third_party_sharing")
CLOCK_SKEW = timedelta(minutes=5)
MAX_CLIENT_EVENT_ID = 128


# NamedTuples, not frozen dataclasses: as immutable, and built in C, where a frozen
# dataclass sets each field through object.__setattr__ (a third of parsing an imported
# record went into building its ConsentInput and Evidence).
class ConsentInput(NamedTuple):
    subject_id: str
    decisions: list[tuple[str, bool]]
    method: ConsentMethod
    policy_kind: PolicyKind = PolicyKind.PRIVACY
    policy_version: int | None = None
    locale: str | None = None
    occurred_at: datetime | None = None
    client_event_id: str | None = None
    source_url: str | None = None
    email: str | None = None


class Evidence(NamedTuple):
    """What the HTTP request itself says: kept minimal, as the law asks."""

    ip: str | None = None
    user_agent: str | None = None
    gpc: bool = False
    accept_language: str | None = None  # negotiates the locale shown when none is named


def gpc_applies(tenant: Tenant) -> bool:
    return any(
        JURISDICTIONS[code].gpc_binding for code in tenant.jurisdictions if code in JURISDICTIONS
    )


def check(
    problems: Problems,
    item: ConsentInput,
    *path: str,
    tenant: Tenant,
    catalog: Catalog,
    evidence: Evidence,
    now: datetime,
) -> tuple[Entry | None, str | None]:
    """The ledger entry for ``item`` and the e-mail to remember, or problems added."""
    return Checker(tenant=tenant, catalog=catalog, now=now)(
        problems, item, *path, evidence=evidence
    )


class Checker:
    """``check`` for a batch checked at one time ``now`` (a recordConsents, an import's
    thousand records): what depends only on the tenant, the catalog, ``now`` and values
    repeated from input to input (the policy version, the page's URL, a locale and its
    translation) is worked out once. A value that fails is checked again each time, so
    that each input gets its own problem."""

    def __init__(self, *, tenant: Tenant, catalog: Catalog, now: datetime) -> None:
        self.tenant, self.catalog, self.now = tenant, catalog, now
        self._latest = now + CLOCK_SKEW
        self._versions: dict[tuple[PolicyKind, int | None], Any] = {}
        self._locales: dict[str, str] = {}  # as given -> its standard case, when valid
        self._shown: dict[tuple[str | None, str | None, PolicyKind, int], str] = {}
        self._urls: dict[str, str] = {}  # as given -> stripped, when valid
        self._refusing: list[str] | None = None
        # One list per distinct decision set, shared by the entries that made it (never
        # changed once made): chaining then encodes each set once (``ledger.Linker``).
        self._decided: dict[tuple, list[dict]] = {}
        self._gpc: bool | None = None

    def __call__(
        self, problems: Problems, item: ConsentInput, *path: str, evidence: Evidence
    ) -> tuple[Entry | None, str | None]:
        before = len(problems.items)
        tenant, now = self.tenant, self.now
        subject = validation.living_subject_id(problems, item.subject_id, *path, "subjectId")
        version = self._version(item.policy_kind, item.policy_version)
        if version is None:
            missing = item.policy_version is None
            problems.add(
                ErrorCode.NO_PUBLISHED_POLICY if missing else ErrorCode.NOT_FOUND,
                f"no published {item.policy_kind} policy version to consent to",
                *path,
                "policyVersion",
            )
        if not item.decisions:
            problems.add(ErrorCode.REQUIRED, "record at least one decision", *path, "decisions")
        purposes = [purpose for purpose, _ in item.decisions]
        if len(set(purposes)) != len(purposes):
            validation.unique(problems, purposes, *path, "decisions")
        if item.method == ConsentMethod.IMPLIED and any(granted for _, granted in item.decisions):
            # Use of a site stands for consent only where every jurisdiction of the tenant
            # says so (the rule table's `consent.implied`), as the banner's model is chosen.
            refusing = self._implied_refused()
            if refusing:
                problems.add(
                    ErrorCode.IMPLIED_CONSENT_NOT_ALLOWED,
                    f"use of the site is not consent under {', '.join(refusing)}: ask for it",
                    *path,
                    "method",
                )
        if version is not None:
            disclosed = version.purposes
            for index, purpose in enumerate(purposes):
                if purpose not in disclosed:
                    problems.add(
                        ErrorCode.UNDISCLOSED_PURPOSE,
                        f"version {version.number} does not disclose the purpose {purpose!r}",
                        *path,
                        "decisions",
                        str(index),
                        "purpose",
                    )
        locale = item.locale
        if locale is not None:
            locale = self._locale(problems, locale, path)
        if version is not None and version.locales and (locale or item.locale is None):
            # The translation the person was shown is the one publishedPolicy serves for
            # the same locale and Accept-Language: one negotiation, so "uz-UZ" is "uz".
            locale = self._shown_locale(locale, evidence.accept_language, version)
        occurred = item.occurred_at or now
        if occurred > self._latest:
            problems.add(ErrorCode.INVALID, "occurredAt is in the future", *path, "occurredAt")
        if (
            item.client_event_id is not None
            and not 0 < len(item.client_event_id) <= MAX_CLIENT_EVENT_ID
        ):
            problems.add(
                ErrorCode.INVALID,
                f"clientEventId must be 1-{MAX_CLIENT_EVENT_ID} characters",
                *path,
                "clientEventId",
            )
        source_url = item.source_url
        if source_url is not None:
            source_url = self._url(problems, source_url, path)
        email = item.email and validation.email(problems, item.email, *path, "email")
        if len(problems.items) > before or version is None or subject is None:
            return None, None

        if evidence.gpc and self._gpc_applies():
            decisions = _with_gpc_opt_out(_decisions(item.decisions), version.purposes)
        else:
            decisions = self._decisions(item.decisions)
        entry = Entry(
            subject_id=subject,
            policy_kind=item.policy_kind,
            policy_version=version.number,
            locale=locale or tenant.default_locale,
            method=item.method,
            decisions=decisions,
            occurred_at=occurred,
            source_url=source_url,
            ip=truncate_ip(evidence.ip),
            user_agent=clean_user_agent(evidence.user_agent),
            client_event_id=item.client_event_id,
        )
        return entry, email or None

    def _decisions(self, pairs) -> list[dict]:
        key = tuple(pairs)
        try:
            found = self._decided.get(key)
        except TypeError:  # pairs that are not hashable: a list of their own
            return _decisions(pairs)
        if found is None:
            found = self._decided[key] = _decisions(pairs)
        return found

    def _version(self, kind: PolicyKind, number: int | None):
        key = (kind, number)
        if key not in self._versions:
            self._versions[key] = (
                self.catalog.in_force(kind, self.now)
                if number is None
                else self.catalog.effective(kind, number, self.now)
            )
        return self._versions[key]

    def _implied_refused(self) -> list[str]:
        if self._refusing is None:
            self._refusing = [
                code
                for code in self.tenant.jurisdictions
                if code in JURISDICTIONS and not JURISDICTIONS[code].implied_consent
            ]
        return self._refusing

    def _gpc_applies(self) -> bool:
        if self._gpc is None:
            self._gpc = gpc_applies(self.tenant)
        return self._gpc

    def _locale(self, problems: Problems, given: str, path: tuple[str, ...]) -> str | None:
        found = self._locales.get(given)
        if found is None:
            found = validation.locale(problems, given, *path, "locale")
            if found is not None:
                self._locales[given] = found
        return found

    def _shown_locale(self, locale: str | None, accept_language: str | None, version) -> str:
        key = (locale, accept_language, version.kind, version.number)
        shown = self._shown.get(key)
        if shown is None:
            shown = self._shown[key] = choose(
                requested=locale,
                accept_language=accept_language,
                available=version.locales,
                default=self.tenant.default_locale,
            )
        return shown

    def _url(self, problems: Problems, given: str, path: tuple[str, ...]) -> str | None:
        found = self._urls.get(given)
        if found is None:
            found = validation.http_url(problems, given, *path, "sourceUrl")
            if found is not None:
                self._urls[given] = found
        return found


class Checking:
    """A recordConsents' inputs, checked by ``checker`` a part at a time as the caller
    asks (``parts``), so that the caller can chain and write each part while the next is
    checked (``service``). Problems go to ``problems`` with the input's index
    (``inputs.N``); ``positions`` lists, in order, the index of each input that passed.
    ``client_ids`` are the inputs' own, before any check: what to look up before chaining
    (an invalid one finds nothing)."""

    def __init__(
        self,
        inputs: list[ConsentInput],
        *,
        checker: Checker,
        problems: Problems,
        evidence: Evidence,
    ) -> None:
        self._inputs, self._checker = inputs, checker
        self._problems, self._evidence = problems, evidence
        self.positions: list[int] = []
        self.client_ids = [item.client_event_id for item in inputs if item.client_event_id]

    def __len__(self) -> int:
        return len(self._inputs)

    async def parts(self, size: int) -> AsyncIterator[list[tuple[Entry, str | None]]]:
        """The entries (with the e-mail to remember) of the inputs that pass, ``size``
        inputs at a time, with a turn of the event loop after each part."""
        check, problems, evidence = self._checker, self._problems, self._evidence
        async for part in paced_chunks(enumerate(self._inputs), size):
            passed = []
            for index, item in part:
                entry, email = check(problems, item, "inputs", str(index), evidence=evidence)
                if entry is not None:
                    passed.append((entry, email))
                    self.positions.append(index)
            yield passed

    async def all(self) -> list[tuple[Entry, str | None]]:
        """Every input checked, PACE at a time: the entries of those that pass."""
        return [pair async for part in self.parts(PACE) for pair in part]


def _decisions(pairs) -> list[dict]:
    return [{"purpose": purpose, "granted": granted} for purpose, granted in pairs]


def _with_gpc_opt_out(decisions: list[dict], disclosed: dict) -> list[dict]:
    """Every disclosed sale/sharing purpose becomes an opt-out by GPC, whatever was sent."""
    covered = [key for key in disclosed if key.startswith(GPC_PREFIXES)]
    kept = [d for d in decisions if d["purpose"] not in covered]
    return kept + [
        {"purpose": key, "granted": False, "method": ConsentMethod.GPC.value} for key in covered
    ]
