"""What no Docker engine here can run is at least checked for shape: compose, migrations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from server.settings import ENV_VARS

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_app_service_sets_exactly_the_settings_the_code_reads():
    services = _compose()["services"]
    assert set(services["app"]["environment"]) == set(ENV_VARS)
    assert services["migrate"]["environment"] == services["app"]["environment"]


def test_compose_has_health_checks_and_a_migration_step():
    services = _compose()["services"]
    for name in ("postgres", "redis", "app"):
        assert "healthcheck" in services[name], name
    assert services["migrate"]["command"] == ["charter", "migrate"]
    depends = services["app"]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = services["app"]["environment"]
    assert env["CHARTER_DATABASE_URL"].startswith("postgres://")
    assert env["CHARTER_REDIS_URL"].startswith("redis://redis:")


def test_readme_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    assert [name for name in ENV_VARS if name not in readme] == []


def test_models_and_migrations_agree():
    """A model change without its migration fails here: run `make migrations`.

    In a process of its own: loading the models under another configuration would
    rebind them for the rest of this test run.
    """
    charter = str(Path(sys.executable).with_name("charter"))
    result = subprocess.run(
        [charter, "makemigrations", "--check"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
