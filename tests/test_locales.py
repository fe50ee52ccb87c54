"""Locale negotiation: explicit choice, then Accept-Language, then the tenant's default."""

from __future__ import annotations

import pytest

from tenants.policies.locales import MAX_RANGES, negotiate, parse_accept_language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", []),
        ("uz", ["uz"]),
        ("uz, ru;q=0.8, en;q=0.5", ["uz", "ru", "en"]),
        ("en;q=0.5, ru;q=0.8, uz", ["uz", "ru", "en"]),
        ("ru;q=0.5, en;q=0.5, uz;q=0.5", ["ru", "en", "uz"]),
        ("en-US,en;q=0.9,ru;q=0", ["en-US", "en"]),
        ("ru;q=0.0, en;q=0.000", []),
        ("  uz-Cyrl ;  Q=0.7 , ru ", ["ru", "uz-Cyrl"]),
        ("uz_Latn", ["uz-Latn"]),
        ("*", ["*"]),
        ("ru, *;q=0.1", ["ru", "*"]),
        ("en, EN;q=0.2", ["en"]),
        ("en;q=0.2, EN", ["en"]),
        ("de;level=1;q=0.4, fr", ["fr", "de"]),
    ],
)
def test_parse_accept_language(header: str, expected: list[str]) -> None:
    assert parse_accept_language(header) == expected


@pytest.mark.parametrize(
    "header",
    [
        "en;q=2",
        "en;q=1.5",
        "en;q=abc",
        "en;q=0.1234",
        "en;q=-1",
        "en;q",
        "e@n",
        "123",
        "toolongsubtag",
        "en-",
        ";q=0.5",
        ",,,",
    ],
)
def test_parse_ignores_malformed_parts(header: str) -> None:
    assert parse_accept_language(header) == []
    assert parse_accept_language(f"{header}, ru;q=0.3") == ["ru"]


def test_parse_caps_the_number_of_ranges() -> None:
    # Ranges past the cap are not read, even a valid one.
    header = ",".join(["a" * 3] * (MAX_RANGES * 3)) + ",ru"
    assert parse_accept_language(header) == ["aaa"]


AVAILABLE = ["en", "ru"]


def go(
    requested: str | None = None,
    header: str | None = None,
    available: list[str] | None = None,
    default: str = "en",
) -> str:
    return negotiate(
        requested=requested,
        accept_language=header,
        available=AVAILABLE if available is None else available,
        default=default,
    )


def test_examples_from_the_spec() -> None:
    assert go(header="uz, ru;q=0.8") == "ru"
    assert go(requested="ru-RU") == "ru"
    assert go(requested="xx") == "en"


def test_requested_beats_header() -> None:
    assert go(requested="ru", header="en") == "ru"


def test_unmatched_requested_falls_back_to_header() -> None:
    assert go(requested="xx", header="ru") == "ru"
    assert go(requested="  ", header="ru") == "ru"
    assert go(requested="not a tag!", header="ru") == "ru"


def test_nothing_matches_gives_default() -> None:
    assert go(header="de, fr;q=0.5") == "en"
    assert go(default="ru") == "ru"
    assert go(requested="ru", available=[], default="uz") == "uz"


def test_matching_is_case_insensitive_and_returns_available_spelling() -> None:
    available = ["uz-Latn", "RU"]
    assert go(requested="UZ-latn", available=available) == "uz-Latn"
    assert go(header="ru", available=available) == "RU"
    assert go(requested="uz_latn", available=available) == "uz-Latn"


def test_region_and_script_fall_back_to_language() -> None:
    assert go(requested="uz-Cyrl", available=["ru", "uz"]) == "uz"
    assert go(header="ru-RU, en;q=0.9") == "ru"
    assert go(requested="zh-Hant-TW", available=["zh", "zh-Hant"]) == "zh-Hant"


def test_bare_language_reaches_a_variant() -> None:
    assert go(requested="uz", available=["ru", "uz-Latn", "uz-Cyrl"]) == "uz-Latn"
    assert go(requested="uz", available=["uz-Cyrl", "uz"]) == "uz"
    assert go(header="en-GB", available=["ru", "en-US"]) == "en-US"


def test_closest_variant_wins() -> None:
    available = ["zh-Hans-CN", "zh-Hant-HK"]
    assert go(requested="zh-Hant-TW", available=available) == "zh-Hant-HK"


def test_first_candidate_matching_anything_wins() -> None:
    # "uz" is preferred to "ru"; a Latin variant of it serves before an exact "ru".
    assert go(header="uz, ru;q=0.9", available=["ru", "uz-Latn"]) == "uz-Latn"
    assert go(header="de, ru;q=0.9, en;q=0.8") == "ru"


def test_quality_order_not_header_order() -> None:
    assert go(header="en;q=0.3, ru;q=0.9") == "ru"


def test_zero_quality_is_never_served() -> None:
    assert go(header="ru;q=0, en;q=0", default="uz", available=["ru", "en"]) == "uz"


def test_wildcard_means_any_so_default() -> None:
    assert go(header="de, *;q=0.5, ru;q=0.1", default="en") == "en"
    assert go(header="de, ru;q=0.9, *;q=0.5", default="en") == "ru"


def test_choose_serves_one_of_the_texts_locales() -> None:
    from tenants.policies.locales import choose

    # The fallback is the default only when the text has it, else its first locale in
    # sorted order, whatever order the caller listed them in.
    assert choose(requested="de", available=["ru", "uz"], default="en") == "ru"
    assert choose(requested="de", available=["uz", "ru"], default="uz") == "uz"
    assert choose(requested="uz-UZ", available=["uz", "ru"], default="ru") == "uz"
    assert choose(accept_language="*", available={"en", "ru"}, default="ru") == "ru"
    with pytest.raises(ValueError):
        choose(requested="en", available=[], default="en")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("*", None),
        ("uz-latn-uz, ru;q=0.5", "uz-Latn-UZ"),
        ("ru;q=0.1, KY-kg", "ky-KG"),
        ("*, en;q=0.5", "en"),
        ("qq-qq-qq-qq-1, ru;q=0.1", "ru"),
    ],
)
def test_preferred_is_the_first_valid_tag(header, expected) -> None:
    from tenants.policies.locales import preferred

    assert preferred(header) == expected
