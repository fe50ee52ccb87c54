"""CHARTER_* environment, read and validated once.

Every setting the code reads is listed in ``ENV_VARS``; docker-compose and the
README are checked against that list, so a new setting is added here first.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tenants import sites
from tenants.validation import whole_number

ENV_VARS = (
    "CHARTER_ENV",
    "CHARTER_DATABASE_URL",
    "CHARTER_REDIS_URL",
    "CHARTER_DATA_DIR",
    "CHARTER_ADMIN_TOKEN",
    "CHARTER_SECRET_KEY",
    "CHARTER_ENCRYPTION_KEY",
    "CHARTER_OLD_ENCRYPTION_KEYS",
    "CHARTER_LOG_LEVEL",
    "CHARTER_SMTP_HOST",
    "CHARTER_SMTP_PORT",
    "CHARTER_SMTP_TLS",
    "CHARTER_SMTP_USER",
    "CHARTER_SMTP_PASSWORD",
    "CHARTER_MAIL_FROM",
    "CHARTER_ALLOW_PRIVATE_WEBHOOKS",
    "CHARTER_OUTBOX_MAX_ATTEMPTS",
    "CHARTER_PUBLIC_RATE",
    "CHARTER_KEY_RATE",
    "CHARTER_TENANT_RATE",
    "CHARTER_TRUSTED_PROXIES",
    "CHARTER_MAX_BODY_BYTES",
    "CHARTER_APQ_MAX_BYTES",
)
SMTP_TLS_MODES = ("off", "starttls", "tls")

ENVIRONMENTS = ("development", "test", "production")
DATABASE_SCHEMES = ("postgres", "postgresql", "sqlite")
REDIS_SCHEMES = ("redis", "rediss", "unix")
MIN_SECRET_LENGTH = 32
MIN_ADMIN_TOKEN_LENGTH = 24


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line naming it."""


@dataclass(frozen=True)
class Mail:
    """Where e-mail goes. No host: e-mail waits in the outbox, undelivered."""

    host: str | None = None
    port: int = 25
    tls: str = "off"
    user: str | None = None
    password: str | None = None
    sender: str = "Charter <no-reply@localhost>"


@dataclass(frozen=True)
class Rate:
    """A sustained rate (cost units per second) and the burst allowed on top."""

    per_second: float
    burst: int


@dataclass(frozen=True)
class Edge:
    public_rate: Rate = Rate(20, 40)  # per tenant site and client IP, no key or publishable
    key_rate: Rate = Rate(50, 100)  # per secret key
    tenant_rate: Rate = Rate(500, 1000)  # ceiling per tenant, all its keys together
    trusted_proxies: tuple[str, ...] = ()  # peers whose X-Forwarded-For is believed
    max_body_bytes: int = 2 * 1024 * 1024
    apq_max_bytes: int = 16 * 1024  # the largest document kept as a persisted query


@dataclass(frozen=True)
class Delivery:
    allow_private_webhooks: bool = False  # tests and local receivers only
    max_attempts: int = 8


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str | None
    redis_url: str | None
    data_dir: Path
    admin_token: str | None
    secret_key: str
    log_level: str
    encryption_keys: tuple[str, ...] = ()  # newest first; empty: derived from secret_key
    mail: Mail = Mail()
    delivery: Delivery = Delivery()
    edge: Edge = Edge()

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_redis(self) -> bool:
        return self.redis_url is None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        mode = (get("CHARTER_ENV") or "development").lower()
        if mode not in ENVIRONMENTS:
            raise SettingsError(
                f"CHARTER_ENV must be one of {', '.join(ENVIRONMENTS)}, not {mode!r}"
            )

        database_url = _url(get("CHARTER_DATABASE_URL"), "CHARTER_DATABASE_URL", DATABASE_SCHEMES)
        redis_url = _url(get("CHARTER_REDIS_URL"), "CHARTER_REDIS_URL", REDIS_SCHEMES)
        data_dir = Path(get("CHARTER_DATA_DIR") or "var").absolute()

        admin_token = get("CHARTER_ADMIN_TOKEN")
        if admin_token is not None and len(admin_token) < MIN_ADMIN_TOKEN_LENGTH:
            raise SettingsError(
                f"CHARTER_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters"
            )

        log_level = (get("CHARTER_LOG_LEVEL") or "INFO").upper()
        if not isinstance(logging.getLevelName(log_level), int):
            raise SettingsError(f"CHARTER_LOG_LEVEL {log_level!r} is not a logging level")

        if mode == "production":
            for name, value in (
                ("CHARTER_DATABASE_URL", database_url),
                ("CHARTER_REDIS_URL", redis_url),
                ("CHARTER_SECRET_KEY", get("CHARTER_SECRET_KEY")),
            ):
                if value is None:
                    raise SettingsError(f"{name} is required when CHARTER_ENV=production")

        secret_key = get("CHARTER_SECRET_KEY") or _embedded_secret(data_dir)
        if len(secret_key) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"CHARTER_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
            )

        return cls(
            env=mode,
            database_url=database_url,
            redis_url=redis_url,
            data_dir=data_dir,
            admin_token=admin_token,
            secret_key=secret_key,
            log_level=log_level,
            encryption_keys=_encryption_keys(get),
            mail=_mail(get),
            edge=_edge(get),
            delivery=Delivery(
                allow_private_webhooks=_flag(
                    get("CHARTER_ALLOW_PRIVATE_WEBHOOKS"), "CHARTER_ALLOW_PRIVATE_WEBHOOKS"
                ),
                max_attempts=_int(
                    get("CHARTER_OUTBOX_MAX_ATTEMPTS"), "CHARTER_OUTBOX_MAX_ATTEMPTS", 8, 1, 100
                ),
            ),
        )


def _url(value: str | None, name: str, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    parts = sites.url_parts(value)
    if parts is None or parts.scheme not in schemes:
        raise SettingsError(
            f"{name} must start with one of {', '.join(s + '://' for s in schemes)}"
        )
    return value


def _embedded_secret(data_dir: Path) -> str:
    """A newcomer's instance keeps one generated key, so key hashes survive restarts."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _mail(get) -> Mail:
    tls = (get("CHARTER_SMTP_TLS") or "off").lower()
    if tls not in SMTP_TLS_MODES:
        raise SettingsError(f"CHARTER_SMTP_TLS must be one of {', '.join(SMTP_TLS_MODES)}")
    default_port = {"off": 25, "starttls": 587, "tls": 465}[tls]
    return Mail(
        host=get("CHARTER_SMTP_HOST"),
        port=_int(get("CHARTER_SMTP_PORT"), "CHARTER_SMTP_PORT", default_port, 1, 65535),
        tls=tls,
        user=get("CHARTER_SMTP_USER"),
        password=get("CHARTER_SMTP_PASSWORD"),
        sender=get("CHARTER_MAIL_FROM") or Mail.sender,
    )


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise SettingsError(f"{name} must be between {low} and {high}")
    return number


def _flag(value: str | None, name: str) -> bool:
    if value is None:
        return False
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0, not {value!r}")


def _edge(get) -> Edge:
    defaults = Edge()
    proxies = tuple(
        p.strip() for p in (get("CHARTER_TRUSTED_PROXIES") or "").split(",") if p.strip()
    )
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise SettingsError(
                f"CHARTER_TRUSTED_PROXIES: {proxy!r} is not an IP or network"
            ) from None
    return Edge(
        public_rate=_rate(get("CHARTER_PUBLIC_RATE"), "CHARTER_PUBLIC_RATE", defaults.public_rate),
        key_rate=_rate(get("CHARTER_KEY_RATE"), "CHARTER_KEY_RATE", defaults.key_rate),
        tenant_rate=_rate(get("CHARTER_TENANT_RATE"), "CHARTER_TENANT_RATE", defaults.tenant_rate),
        trusted_proxies=proxies,
        max_body_bytes=_int(
            get("CHARTER_MAX_BODY_BYTES"),
            "CHARTER_MAX_BODY_BYTES",
            defaults.max_body_bytes,
            1024,
            100 * 2**20,
        ),
        apq_max_bytes=_int(
            get("CHARTER_APQ_MAX_BYTES"),
            "CHARTER_APQ_MAX_BYTES",
            defaults.apq_max_bytes,
            256,
            1024 * 1024,
        ),
    )


MAX_RATE = 1_000_000.0  # units per second: past this a limit means nothing
MAX_BURST = 1_000_000_000


def parse_rate(text: str) -> Rate:
    """ "20" (burst twice the rate) or "20:60" (rate:burst), per second: a finite rate
    above zero in ASCII digits and at most one point, and a burst of ASCII digits, at
    least 1. Raises ValueError saying so. ``float`` alone reads "١٢" (Arabic-Indic digits)
    as 12, and an operator's typo in another script must be refused, not guessed.
    The one parser for the settings and `charter tenant limits`: a rate of 0, inf or NaN,
    or a burst below 1, stored in a plan made every request of the tenant a 503."""
    rate, colon, burst = text.strip().partition(":")
    try:
        number = rate.strip()
        plain = number.isascii() and number.replace(".", "", 1).isdigit()
        per_second = float(number) if plain else -1.0
    except ValueError:
        per_second = -1.0
    if not 0 < per_second <= MAX_RATE:
        raise ValueError(f"the rate must be a number above 0 and at most {MAX_RATE:.0f}")
    allowed = whole_number(burst, digits=10) if colon else max(1, int(per_second * 2))
    if allowed is None:
        raise ValueError("the burst must be a whole number, like 20:60")
    if not 1 <= allowed <= MAX_BURST:
        raise ValueError(f"the burst must be at least 1 and at most {MAX_BURST}")
    return Rate(per_second, allowed)


def _rate(value: str | None, name: str, default: Rate) -> Rate:
    if value is None:
        return default
    try:
        return parse_rate(value)
    except ValueError as error:
        raise SettingsError(f"{name}: {error} (rate per second:burst, like 20:60)") from None


def _encryption_keys(get) -> tuple[str, ...]:
    current = get("CHARTER_ENCRYPTION_KEY")
    old = [k.strip() for k in (get("CHARTER_OLD_ENCRYPTION_KEYS") or "").split(",") if k.strip()]
    if old and current is None:
        raise SettingsError(
            "CHARTER_OLD_ENCRYPTION_KEYS needs a CHARTER_ENCRYPTION_KEY to rotate to"
        )
    keys = ([current] if current else []) + old
    for key in keys:
        if len(key) < MIN_SECRET_LENGTH:
            raise SettingsError(f"encryption keys must be at least {MIN_SECRET_LENGTH} characters")
    return tuple(keys)
