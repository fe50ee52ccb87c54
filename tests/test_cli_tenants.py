"""`charter tenant create|update` as the README writes it: list options take several
values after one flag and may be repeated; the EU member state of the main
establishment is set, changed, refused and cleared. Real processes, real backend."""

from __future__ import annotations

from tests.test_cli import charter, cli_env  # noqa: F401  (cli_env is a fixture)


async def test_lists_take_several_values_and_repeat(cli_env, tmp_path):  # noqa: F811
    code, out, err = await charter(
        "tenant", "create", "--slug", "shop", "--name", "Shop", "--locale", "ru",
        "--locales", "uz", "ky", "--locales", "en",
        "--jurisdiction", "UZ", "KZ", "--jurisdiction", "EU",
        "--domain", "shop.example", "www.shop.example", "--domain", "shop.uz",
        "--main-establishment", "de",
        env=cli_env, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    assert out.strip().startswith("sk_")

    code, out, err = await charter(
        "tenant", "update", "--slug", "shop", "--name", "Shop LLC", env=cli_env, cwd=tmp_path
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == (
        "shop: jurisdictions UZ KZ EU; locales ru uz ky en; "
        "domains shop.example shop.uz www.shop.example; main establishment DE"
    )


async def test_update_sets_refuses_and_clears_the_main_establishment(cli_env, tmp_path):  # noqa: F811
    args = ("--slug", "gmbh", "--name", "GmbH", "--locale", "de", "--jurisdiction", "EU")
    assert (await charter("tenant", "create", *args, env=cli_env, cwd=tmp_path))[0] == 0

    async def update(*options: str) -> tuple[int, str, str]:
        return await charter(
            "tenant", "update", "--slug", "gmbh", *options, env=cli_env, cwd=tmp_path
        )

    code, out, _ = await update("--main-establishment", "AT", "--locales", "de", "en")
    assert code == 0 and out.strip().endswith("locales de en; domains -; main establishment AT")

    code, out, err = await update("--main-establishment", "GB")
    assert code == 1 and out == ""
    assert err.strip().startswith("charter: GB is not an EU member state")

    code, out, _ = await update("--no-main-establishment")
    assert code == 0 and out.strip().endswith("main establishment -")

    code, _, err = await update()
    assert code == 1 and err.strip() == "charter: nothing to change: give at least one option"


async def test_charter_tenant_limits_refuses_a_rate_with_one_line(cli_env, tmp_path):  # noqa: F811
    code, _, err = await charter(
        "tenant", "create", "--slug", "shop", "--name", "Shop", "--locale", "en",
        "--jurisdiction", "EU", env=cli_env, cwd=tmp_path,
    )  # fmt: skip
    assert code == 0, err
    for text in ("nan", "0:0"):
        code, out, err = await charter(
            "tenant", "limits", "--slug", "shop", "--key-rate", text, env=cli_env, cwd=tmp_path
        )
        assert code == 2 and "Traceback" not in err, err
        assert "argument --key-rate" in err and out == ""
    code, _, err = await charter(
        "tenant", "limits", "--slug", "shop", "--max-cost", "-5", env=cli_env, cwd=tmp_path
    )
    assert code == 2 and "argument --max-cost" in err and "Traceback" not in err, err
