"""Kantara Consent Receipt v1.1 documents from plain tenant and purpose data."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from tenants.consent.kantara import (
    CONTROLLER_FIELDS,
    PURPOSE_FIELDS,
    REQUIRED_FIELDS,
    SENSITIVE_CATEGORY_PREFIXES,
    PurposeInfo,
    TenantInfo,
    kantara_receipt,
    sensitive_categories,
    validate_receipt,
)
from tenants.taxonomy import DATA_CATEGORIES

TENANT = TenantInfo(
    name="Charter Demo LLC",
    contact="Privacy Team",
    address="1 Amir Temur St, Tashkent",
    email="privacy@demo.example",
    phone="+998 71 000 00 00",
    jurisdictions=("UZ", "EU"),
    country="UZ",
)
PURPOSES = (
    PurposeInfo(
        key="essential.service",
        legal_basis="CONTRACT",
        requires_consent=False,
        data_categories=("user.contact.email", "user.account"),
        description="Provide the shop",
        termination="Account closure + 3 years",
    ),
    PurposeInfo(
        key="marketing.advertising.third_party.targeted",
        legal_basis="CONSENT",
        requires_consent=True,
        data_categories=("user.device.cookie_id", "user.behavior.browsing_history"),
        third_parties=("AdNet Ltd", "Metrics Inc"),
    ),
    PurposeInfo(
        key="personalize.content",
        legal_basis="CONSENT",
        requires_consent=True,
        data_categories=("user.health_and_medical.genetic", "user.demographic"),
    ),
    PurposeInfo(
        key="analytics.reporting",
        legal_basis="LEGITIMATE_INTERESTS",
        requires_consent=False,
    ),
)
WHEN = datetime(2025, 3, 1, 9, 30, 15, 900_000, tzinfo=UTC)


def _receipt(decisions=(("marketing.advertising.third_party.targeted", True),), **overrides):
    arguments = dict(
        receipt_id="0b8f6a7e-3a43-4c1e-9d1c-4f4f7a0f2a11",
        tenant=TENANT,
        subject_id="visitor-42",
        jurisdiction="UZ",
        consent_timestamp=WHEN,
        collection_method="cookie banner",
        policy_url="https://demo.example/privacy/v3",
        purposes=PURPOSES,
        decisions=list(decisions),
        language="uz-Latn",
    )
    return kantara_receipt(**{**arguments, **overrides})


def _purposes(receipt) -> dict[str, dict]:
    return {p["purposeCategory"][0]: p for p in receipt["services"][0]["purposes"]}


def test_receipt_has_every_required_field() -> None:
    receipt = _receipt()
    assert all(key in receipt for key in REQUIRED_FIELDS)
    assert all(key in receipt["piiControllers"][0] for key in CONTROLLER_FIELDS)
    for purpose in receipt["services"][0]["purposes"]:
        assert all(key in purpose for key in PURPOSE_FIELDS)
    assert validate_receipt(receipt) == []


def test_receipt_values() -> None:
    receipt = _receipt()
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["consentTimestamp"] == int(WHEN.timestamp()) == 1740821415
    assert receipt["language"] == "uz"
    assert receipt["jurisdiction"] == "UZ"
    assert receipt["piiPrincipalId"] == "visitor-42"
    assert receipt["piiControllers"][0]["address"] == {
        "streetAddress": "1 Amir Temur St, Tashkent",
        "addressCountry": "UZ",
    }
    assert receipt["services"][0]["service"] == "Charter Demo LLC"


def test_consent_type_mapping() -> None:
    purposes = _purposes(_receipt())
    # Granted consent purpose: EXPLICIT. Undecided consent purpose: not on the receipt.
    assert purposes["marketing.advertising.third_party.targeted"]["consentType"] == "EXPLICIT"
    assert "personalize.content" not in purposes
    # Contract and legitimate interests: IMPLICIT.
    assert purposes["essential.service"]["consentType"] == "IMPLICIT"
    assert purposes["analytics.reporting"]["consentType"] == "IMPLICIT"


def test_refusals_and_objections_leave_the_receipt() -> None:
    purposes = _purposes(
        _receipt(
            decisions=[
                ("marketing.advertising.third_party.targeted", False),
                ("analytics.reporting", False),
                ("essential.service", False),
            ]
        )
    )
    # A refused consent and an objection to legitimate interests end processing; a
    # contract purpose cannot be refused away.
    assert set(purposes) == {"essential.service"}


def test_purpose_fields() -> None:
    purposes = _purposes(_receipt(decisions=[("personalize.content", True)]))
    essential = purposes["essential.service"]
    assert essential["purpose"] == "Provide the shop"
    assert essential["termination"] == "Account closure + 3 years"
    assert essential["thirdPartyDisclosure"] is False and essential["thirdPartyName"] == ""
    # No categories named: the receipt claims "some user data", not nothing.
    assert purposes["analytics.reporting"]["piiCategory"] == ["user"]
    assert purposes["personalize.content"]["termination"]
    marketing = _purposes(_receipt())["marketing.advertising.third_party.targeted"]
    assert marketing["thirdPartyDisclosure"] is True
    assert marketing["thirdPartyName"] == "AdNet Ltd, Metrics Inc"


def test_sensitive_follows_the_listed_purposes() -> None:
    assert _receipt()["sensitive"] is False and _receipt()["spiCat"] == []
    receipt = _receipt(decisions=[("personalize.content", True)])
    assert receipt["sensitive"] is True
    # "user.demographic" alone does not say a sensitive child is processed.
    assert receipt["spiCat"] == ["user.health_and_medical.genetic"]
    assert validate_receipt(receipt) == []


def test_sensitive_prefixes_exist_in_fideslang() -> None:
    assert set(SENSITIVE_CATEGORY_PREFIXES) <= DATA_CATEGORIES
    assert sensitive_categories(
        ["user.biometric.fingerprint", "user.demographic.religious_belief", "user.contact", "user"]
    ) == ["user.biometric.fingerprint", "user.demographic.religious_belief"]


def test_validate_catches_removed_fields() -> None:
    receipt = _receipt()
    for key in REQUIRED_FIELDS:
        broken = copy.deepcopy(receipt)
        del broken[key]
        assert key in validate_receipt(broken)
    broken = copy.deepcopy(receipt)
    del broken["piiControllers"][0]["email"]
    del broken["services"][0]["purposes"][1]["termination"]
    broken["services"][0]["purposes"][0]["piiCategory"] = []
    assert validate_receipt(broken) == [
        "piiControllers[0].email",
        "services[0].purposes[0].piiCategory",
        "services[0].purposes[1].termination",
    ]
    broken = copy.deepcopy(receipt)
    del broken["services"][0]["service"]
    assert validate_receipt(broken) == ["services[0].service"]
    broken = copy.deepcopy(receipt)
    broken["piiControllers"] = []
    broken["sensitive"] = True
    assert validate_receipt(broken) == ["piiControllers", "spiCat"]


def test_third_party_name_needed_only_when_disclosed() -> None:
    receipt = _receipt()
    marketing = receipt["services"][0]["purposes"][1]
    assert marketing["thirdPartyDisclosure"] is True
    marketing["thirdPartyName"] = ""
    assert validate_receipt(receipt) == ["services[0].purposes[1].thirdPartyName"]


def test_missing_tenant_details_are_blank_not_invented() -> None:
    tenant = TenantInfo(
        name="Bare", contact="", address="", email="", phone="", jurisdictions=("EU", "UZ")
    )
    receipt = _receipt(tenant=tenant, jurisdiction=None, language=None)
    assert receipt["jurisdiction"] == "EU UZ"
    assert "language" not in receipt
    assert validate_receipt(receipt) == [
        "piiControllers[0].contact",
        "piiControllers[0].address",
        "piiControllers[0].email",
        "piiControllers[0].phone",
    ]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        _receipt(decisions=[("not.a.purpose", True)])
    with pytest.raises(ValueError):
        _receipt(decisions=[("analytics.reporting", True), ("analytics.reporting", False)])
    with pytest.raises(ValueError):
        _receipt(subject_id="")
    with pytest.raises(ValueError):
        _receipt(consent_timestamp=WHEN.replace(tzinfo=None))
