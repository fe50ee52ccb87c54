"""E-mail templates: every kind in every locale, escaping, fallback, tenant overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from tenants.outbound import templates
from tenants.outbound.templates import KINDS, LOCALES, OverrideError, check_overrides, render

TOKEN = "Zq8-Lm_3xT"
VERIFY = {"request_id": "req-42", "type": "ERASURE", "token": TOKEN}
PAYLOADS = {
    "subject_request.verification": VERIFY,
    "subject_request.completed": {
        "request_id": "req-42",
        "type": "ACCESS",
        "status": "REJECTED",
        "note": "We hold no data about you.",
    },
    "subject_request.extended": {
        "request_id": "req-42",
        "type": "ERASURE",
        "due_on": "2026-03-02",
        "due_at": "2026-03-02T22:59:59+00:00",
        "note": "We are checking backups.",
    },
    "breach.notice": {"breach_id": "b-1", "title": "Incident", "body": "What happened."},
    "policy.material_change": {
        "site": "shop-internal-slug",
        "kind": "PRIVACY",
        "version": 3,
        "change_summary": "We now keep logs for 90 days.",
        "effective_at": "2030-05-01T23:30:00-02:00",
    },
    "subject.restriction_lifted": {"lifted_on": "2026-12-01", "note": "Your address is right."},
}


def _verification(locale: str | None, **extra):
    return render(
        kind="subject_request.verification",
        locale=locale,
        payload=VERIFY,
        tenant_name="Acme",
        **extra,
    )


def test_every_locale_has_every_kind_next_to_the_module():
    folder = Path(templates.__file__).with_name("templates")
    assert (folder / "_layout.html").is_file()
    for locale in LOCALES:
        for name in ("_frame", *KINDS):
            assert (folder / locale / f"{name}.jinja").is_file(), (locale, name)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_renders_in_every_locale(kind: str, locale: str):
    rendered = render(kind=kind, locale=locale, payload=PAYLOADS[kind], tenant_name="Acme")
    assert rendered.locale == locale
    assert rendered.subject and "\n" not in rendered.subject
    assert "Acme" in rendered.text and "Acme" in rendered.html
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale}">' in rendered.html


@pytest.mark.parametrize("locale", LOCALES)
def test_verification_carries_the_code_the_type_and_the_lifetime(locale: str):
    rendered = _verification(locale)
    assert TOKEN in rendered.text
    assert f"<strong>{TOKEN}</strong>" in rendered.html
    assert "24" in rendered.text
    label = {
        "en": "Erasure of your data",
        "ru": "Удаление данных",
        "uz": "Ma’lumotlarni oʻchirish",  # noqa: RUF001
        "ky": "Маалыматтарды өчүрүү",
        "kk": "Деректерді жою",
    }[locale]
    assert label in rendered.text and label in rendered.subject
    assert "req-42" in rendered.text


def test_uzbek_is_latin_with_the_proper_apostrophes():
    text = _verification("uz").text
    assert "So\u02bbrov" in text  # oʻ takes U+02BB, the modifier letter  # noqa: RUF003
    assert "ma\u2019lumot" in text  # the tutuq belgisi takes U+2019
    assert "'" not in text and "`" not in text


def test_a_hostile_breach_notice_is_escaped_and_keeps_its_paragraphs():
    body = "First paragraph.\nSecond line.\r\n\r\n<script>alert(1)</script>\n\n<b>bold</b> & more"
    rendered = render(
        kind="breach.notice",
        locale="en",
        payload={"breach_id": "b-1", "title": "<img src=x onerror=alert(1)>", "body": body},
        tenant_name="Acme <Ltd>",
    )
    assert "<script>" not in rendered.html and "<img" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in rendered.html
    assert "<p>First paragraph.<br>\nSecond line.</p>" in rendered.html
    assert "Acme &lt;Ltd&gt;" in rendered.html
    # The text part is not HTML: the tenant's words are shown as written.
    assert "<script>alert(1)</script>" in rendered.text
    assert "First paragraph.\nSecond line.\n\n<script>" in rendered.text


def test_completed_and_rejected_read_differently():
    payload = dict(PAYLOADS["subject_request.completed"])
    rejected = render(
        kind="subject_request.completed", locale="en", payload=payload, tenant_name="A"
    )
    payload.update(status="COMPLETED", note=None)
    completed = render(
        kind="subject_request.completed", locale="en", payload=payload, tenant_name="A"
    )
    assert "declined" in rejected.subject and "Reason: We hold no data" in rejected.text
    assert "complaint" in rejected.text
    assert "completed" in completed.subject and "complaint" not in completed.text
    assert "Note" not in completed.text


def test_material_change_shows_the_effective_day_in_utc():
    rendered = render(
        kind="policy.material_change",
        locale="en",
        payload=PAYLOADS["policy.material_change"],
        tenant_name="Acme",
    )
    assert "2030-05-02" in rendered.text  # 23:30 at UTC-2 is the next day in UTC
    assert "privacy policy" in rendered.text and "90 days" in rendered.html


@pytest.mark.parametrize(
    ("asked", "served"),
    [
        ("ru-RU", "ru"),
        ("RU", "ru"),
        ("uz-Cyrl", "uz"),
        ("uz_Latn_UZ", "uz"),
        ("ky-KG", "ky"),
        ("kk-KZ", "kk"),
        ("kk-Cyrl-KZ", "kk"),
        ("en-GB", "en"),
        ("de-AT", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_locale_falls_back_to_the_language_then_english(asked: str | None, served: str):
    assert _verification(asked).locale == served


def test_a_tenant_override_is_used_for_its_locale():
    overrides = {
        "de": {
            "subject": "Bestätigen Sie: {{ type_label }}\r\nBcc: x@example.com",
            "text": "Hallo,\n\nIhr Code: {{ token }}\n\n<i>{{ tenant_name }}</i>",
        }
    }
    rendered = render(
        kind="subject_request.verification",
        locale="de-CH",
        payload=VERIFY,
        tenant_name="Acme & <Co>",
        overrides=overrides,
    )
    assert rendered.locale == "de"
    # No line break survives into the header.
    assert rendered.subject == "Bestätigen Sie: Erasure of your data Bcc: x@example.com"
    assert rendered.text == f"Hallo,\n\nIhr Code: {TOKEN}\n\n<i>Acme & <Co></i>\n"
    assert f"<p>Ihr Code: {TOKEN}</p>" in rendered.html
    # The tenant's markup is its own; the values are escaped.
    assert "<p><i>Acme &amp; &lt;Co&gt;</i></p>" in rendered.html


def test_an_override_for_a_broader_locale_does_not_beat_a_closer_built_in():
    rendered = _verification("ru-RU", overrides={"en": {"text": "code {{ token }}"}})
    assert rendered.locale == "ru" and "Здравствуйте" in rendered.text
    assert _verification("fr", overrides={"en": {"text": "code {{ token }}"}}).text == (
        f"code {TOKEN}\n"
    )


def test_only_the_subject_can_be_overridden():
    rendered = _verification("ru", overrides={"ru": {"subject": "Код для {{ tenant_name }}"}})
    assert rendered.subject == "Код для Acme"
    assert TOKEN in rendered.text and "Здравствуйте" in rendered.text


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }} {{ token }}",
        "{{ token.__class__.__mro__[1].__subclasses__() }}",
        "{{ token['__class__'] }}",
        "{{ token|attr('__class__') }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ token.ljust(1000000000) }}",
        "{{ 'x' * 1000000000 }} {{ token }}",
        "{{ '%999999999s' % token }}",
        "{% for i in range(100000) %}{{ token }}{% endfor %}",
        "{% set t = token ~ token %}{{ t }}",
        "{{ token|center(1000000000) }}",
        "{% include 'en/_frame.jinja' %}{{ token }}",
        "{{ token",
        "{{ no_such_variable }} {{ token }}",
    ],
)
def test_an_override_runs_sandboxed(source: str):
    try:
        rendered = _verification("en", overrides={"en": {"text": source}})
    except OverrideError:
        return
    # Whatever is not refused must at least not reveal Python's internals.
    assert "class" not in rendered.text and "object" not in rendered.text


def test_an_override_that_drops_the_code_is_refused():
    with pytest.raises(OverrideError, match="token"):
        _verification("en", overrides={"en": {"text": "Hello, please verify."}})


def test_overrides_are_checked_before_they_are_saved():
    kind = "subject_request.verification"
    assert check_overrides(kind=kind, overrides={"ru": {"text": "Код: {{ token }}"}}) is None
    assert "token" in check_overrides(kind=kind, overrides={"ru": {"text": "Код"}})
    assert "titel" in check_overrides(
        kind="breach.notice", overrides={"uz": {"subject": "{{ titel }}"}}
    )
    assert "only subject and text" in check_overrides(kind=kind, overrides={"en": {"html": "x"}})
    assert "no e-mail template" in check_overrides(kind="nope", overrides={})


def test_unknown_kind_and_incomplete_payloads_are_refused():
    with pytest.raises(ValueError, match="no e-mail template"):
        render(kind="consent.recorded", locale="en", payload={}, tenant_name="A")
    with pytest.raises(ValueError, match="token"):
        render(
            kind="subject_request.verification",
            locale="en",
            payload={"request_id": "r", "type": "ACCESS"},
            tenant_name="A",
        )
    with pytest.raises(ValueError, match="COMPLETED or REJECTED"):
        render(
            kind="subject_request.completed",
            locale="en",
            payload={"request_id": "r", "type": "ACCESS", "status": "IN_PROGRESS"},
            tenant_name="A",
        )


def test_unknown_labels_fall_back_to_the_raw_value():
    payload = {**VERIFY, "type": "SOMETHING_NEW"}
    rendered = render(
        kind="subject_request.verification", locale="ky", payload=payload, tenant_name="A"
    )
    assert "SOMETHING_NEW" in rendered.text


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_no_message_names_the_tenants_internal_slug(kind: str, locale: str):
    """People know the tenant by its name; the slug is an id for machines (the webhook
    payload keeps it)."""
    payload = {**PAYLOADS[kind], "site": "shop-internal-slug"}
    rendered = render(kind=kind, locale=locale, payload=payload, tenant_name="Shop of Tashkent")
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "shop-internal-slug" not in part
    if kind == "policy.material_change":
        assert "Shop of Tashkent" in rendered.subject


@pytest.mark.parametrize("locale", LOCALES)
def test_an_extension_says_why_and_until_when(locale: str):
    rendered = render(
        kind="subject_request.extended",
        locale=locale,
        payload=PAYLOADS["subject_request.extended"],
        tenant_name="Acme",
    )
    assert "2026-03-02" in rendered.text and "We are checking backups." in rendered.text
    assert "req-42" in rendered.text and "2026-03-02" in rendered.html


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", ["ACCESS", "PORTABILITY", "ERASURE"])
def test_a_completed_copy_of_data_is_never_in_the_email(locale: str, kind: str):
    payload = {"request_id": "req-42", "type": kind, "status": "COMPLETED", "note": None}
    rendered = render(
        kind="subject_request.completed", locale=locale, payload=payload, tenant_name="Acme"
    )
    english = render(
        kind="subject_request.completed", locale="en", payload=payload, tenant_name="Acme"
    )
    # The sentence about how the copy reaches the person appears exactly for data copies.
    said = "not attached to this e-mail" in english.text
    assert said == (kind in ("ACCESS", "PORTABILITY"))
    lines = len(rendered.text.splitlines())
    plain = render(
        kind="subject_request.completed",
        locale=locale,
        payload={**payload, "type": "ERASURE"},
        tenant_name="Acme",
    )
    assert (lines > len(plain.text.splitlines())) == said


def test_kazakh_is_cyrillic_with_its_own_letters():
    text = _verification("kk-KZ").text
    assert _verification("kk-KZ").locale == "kk"
    assert "Сұраныс" in text and any(letter in text for letter in "әғқңөұүһі")
