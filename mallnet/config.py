"""Settings from ``MALLNET_*`` environment variables, with embedded defaults.

With nothing set, everything lives under ``./var``: SQLite databases for the hub and each
node, and a Celery broker and result store in SQLite files, so the network runs without any
server. Production points the same settings at PostgreSQL and Redis by URL.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SHOP_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


class InvalidShopSlug(ValueError):
    """A shop slug is not 3-40 characters of lowercase ASCII letters, digits and hyphens."""


# A shop's slug is its node's token audience: none may be an audience the hub issues
# tokens for itself (shoppers', mall users'), or a node would accept those tokens.
RESERVED_SLUGS = frozenset({"mallnet-hub", "mallnet-dev", "hub"})


def check_shop_slug(slug: str) -> str:
    if not SHOP_SLUG.fullmatch(slug):
        raise InvalidShopSlug(
            f"shop slug {slug!r} is invalid: use 3-40 lowercase letters, digits and hyphens, "
            "starting with a letter (e.g. 'ketab-sara')"
        )
    if slug in RESERVED_SLUGS:
        raise InvalidShopSlug(f"shop slug {slug!r} is reserved for the network itself")
    return slug


class InsecureSettings(ValueError):
    """Production settings that would run with a missing, default or guessable secret."""


# Secrets seen in examples, compose files and tutorials: never accepted in production.
KNOWN_DEFAULT_SECRETS = frozenset(
    {
        "change-me",
        "change-me-network-key",
        "changeme",
        "change_me",
        "secret",
        "password",
        "mallnet",
        "development",
        "dev",
        "test",
        "example",
        "default",
        "placeholder",
    }
)
MIN_SECRET_LENGTH = 32
REDACTED = "***"
# Settings holding a secret by name; every other string is still shown with the password of
# any URL in it hidden (database, broker and rate-limit storage URLs).
_SECRET_NAME = re.compile(r"(^|_)(secret|password|passwd|token)(_|$)|_key$")
Role = Literal["hub", "node", "worker"]


# Query parameters that carry a password or token in a database or broker URL.
_SECRET_PARAM = re.compile(
    r"(?i)^(password|passwd|pwd|pass|sslpassword|secret|token|auth|api_?key|access_?key)$"
)
_SECRET_PARAM_TEXT = re.compile(
    r"(?i)([?&;](?:password|passwd|pwd|pass|sslpassword|secret|token|auth|api_?key|"
    r"access_?key)=)[^&;#]*"
)


def redact_url(value: str) -> str:
    """``value`` with the password of a URL in it hidden: its userinfo password (even one
    holding ``/``, ``?``, ``#`` or ``@``) and password-like query parameters
    (``?password=``). Text that is no URL is returned as it is."""
    scheme, sep, rest = value.partition("://")
    if not sep or not scheme or any(c.isspace() for c in scheme):
        return value
    if rest.count("@") <= 1:  # with more, which '@' ends the password is ambiguous
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            pass
        else:
            query = {k: (REDACTED if _SECRET_PARAM.match(k) else v) for k, v in url.query.items()}
            shown = url.set(query=query).render_as_string(hide_password=True)
            # A node's URL template keeps its placeholder readable.
            return shown.replace("%7Bshop%7D", "{shop}").replace("%2A%2A%2A", REDACTED)
    # Not for SQLAlchemy's parser: the userinfo ends at the last '@' (hiding too much is
    # harmless; a password cut at an '@' inside it would show its rest).
    userinfo, at, tail = rest.rpartition("@")
    if at and ":" in userinfo:
        rest = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{tail}"
    return f"{scheme}://" + _SECRET_PARAM_TEXT.sub(r"\g<1>" + REDACTED, rest)


def is_secret_setting(name: str) -> bool:
    return bool(_SECRET_NAME.search(name))


def _weak_secret(value: str) -> str | None:
    """Why ``value`` is no secret for production, or None."""
    folded = value.strip().lower()
    if folded in KNOWN_DEFAULT_SECRETS or any(
        word in folded for word in ("change-me", "changeme", "change_me", "placeholder")
    ):
        return "is a known default"
    if len(value) < MIN_SECRET_LENGTH:
        return f"has {len(value)} characters, fewer than {MIN_SECRET_LENGTH}"
    if len(set(value)) < 8:
        return "repeats too few characters to be random"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MALLNET_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path("var")

    # Databases. ``{shop}`` in the node URL is replaced by the shop slug (hyphens become
    # underscores, so it is a valid PostgreSQL database name too): one database per node.
    hub_database_url: str | None = None
    node_database_url: str | None = None
    database_echo: bool = False

    # Celery. Empty means the embedded broker: SQLite files in the data directory.
    broker_url: str | None = None
    result_backend: str | None = None
    celery_queue: str = "mallnet"
    # Prefix for every Redis key Celery writes, so several networks (or test runs) can
    # share one Redis server without seeing each other's messages.
    redis_key_prefix: str = ""
    worker_concurrency: int = Field(default=2, ge=1)
    # The shops whose periodic work (expiry of points and credit) beat schedules,
    # comma-separated; each node's database is found through MALLNET_NODE_DATABASE_URL.
    shops: str = ""
    expiry_interval_s: int = Field(default=3600, ge=10)
    relay_interval_s: int = Field(default=5, ge=1)
    # How often the hub releases expired holds of network value and expires its lots, and
    # reverses captures no purchase event matched in time.
    value_sweep_interval_s: int = Field(default=60, ge=5)
    # How long a capture of network value waits for the node's purchase event naming it
    # before the hub reverses it to the shopper (and never settles it).
    capture_match_window_s: int = Field(default=15 * 60, ge=60, le=7 * 24 * 3600)
    # How often beat looks for settlement periods that have ended, and closes them.
    settlement_sweep_interval_s: int = Field(default=300, ge=5)
    heartbeat_interval_s: int = Field(default=10, ge=1)

    # Signs development access tokens (``mallnet dev-token``) until the hub's OAuth server
    # issues real ones; empty means a random secret kept in the data directory.
    dev_token_secret: str | None = None

    # The network's secret for shopper pseudonyms: HMAC-SHA256(key, E.164 phone). Shared
    # by the hub and every node; empty means a random key kept in the data directory.
    network_key: str | None = None
    # Where SMS go until a provider is configured: a JSON-lines file in the data directory.
    sms_outbox: Path | None = None

    # --- Messaging (README "Configuration: messaging"). ---
    # Which SMS provider carries SMS: "file" (the outbox above) or "kavenegar".
    sms_provider: Literal["file", "kavenegar"] = "file"
    # The mall's Kavenegar account (it pays for every SMS unless a shop has its own below).
    kavenegar_api_key: str | None = None
    kavenegar_url: str = "https://api.kavenegar.com"
    # The hub's own account for its sign-in and redemption codes (empty: the mall's above).
    # Give it to the hub only: whoever holds an account's key can read what it sent.
    kavenegar_codes_api_key: str | None = None
    # The secret in the URL Kavenegar forwards replies to (/hooks/kavenegar/<secret>).
    kavenegar_hook_secret: str | None = None
    # Sender numbers: the service line (codes, purchases: always delivered) and the
    # promotional line (campaigns: consent and quiet hours).
    sms_service_line: str | None = None
    sms_promotional_line: str | None = None
    # Shops that pay for their own SMS: {"<slug>": {"api_key": ..., "service_line": ...,
    # "promotional_line": ...}} as JSON; every other shop sends through the mall's account.
    sms_shop_accounts_secret: dict[str, dict[str, str]] = Field(default_factory=dict)
    # What one SMS part costs, in Rial, for estimates before sending (the provider's own
    # price replaces it once it answers): Persian (UCS-2) and Latin (GSM-7) parts.
    sms_part_price_rial: int = Field(default=1_200, ge=0, le=10**7)
    # Sends per second each provider accepts from us (shared by all workers via Redis).
    sms_rate_per_s: int = Field(default=20, ge=1, le=10_000)
    telegram_rate_per_s: int = Field(default=25, ge=1, le=10_000)
    message_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # The mall's Telegram bot (empty: no Telegram). The API URL is Telegram's unless a
    # local Bot API server (or the tests' fake) stands in for it.
    telegram_bot_token: str | None = None
    telegram_bot_username: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_secret: str | None = None
    # What the hub sends for each shop on the mall's account in one Tehran day (a node
    # never holds the mall's key or bot token; it hands such messages to the hub): SMS
    # parts and Telegram messages per shop, and messages per person from one shop (SMS and
    # Telegram together).
    relay_sms_parts_per_day: int = Field(default=10_000, ge=0, le=10**7)
    relay_telegram_per_day: int = Field(default=20_000, ge=0, le=10**7)
    relay_per_person_per_day: int = Field(default=20, ge=1, le=1_000)
    # Promotional quiet hours in Tehran time ("22:00-08:00"; equal ends: none).
    quiet_hours: str = "22:00-08:00"
    # How often beat sends what is due, and asks providers for delivery reports.
    message_interval_s: int = Field(default=5, ge=1)
    delivery_report_interval_s: int = Field(default=60, ge=5)
    # How often beat looks for today's birthdays (a gift is given once a year whatever the
    # interval; hourly lets a gift that waited out the quiet hours go soon after they end).
    birthday_interval_s: int = Field(default=3600, ge=10)

    # --- The public edge (owners: see README "Security"). ---
    # The reverse proxies in front of the hub and nodes (IPs or CIDR networks,
    # comma-separated): a forwarded client address is believed only from these.
    trusted_proxies: str = ""
    # Where abuse counters live: empty means this process's memory (the embedded default);
    # in production a Redis URL (redis://host:6379/N), shared by every hub instance.
    rate_limit_storage: str | None = None
    # SMS the hub may send in one hour across all phones: a budget against SMS pumping.
    sms_budget_per_hour: int = Field(default=1000, ge=1)
    # How long a staff or till session at a node keeps working without the hub.
    node_session_hours: int = Field(default=8, ge=1, le=72)
    # The key-encryption key for the hub's private signing keys: URL-safe base64 of 32
    # bytes, given directly or as a file holding it.
    key_encryption_key: str | None = None
    key_encryption_key_file: Path | None = None
    # While rotating the key-encryption key (``mallnet keys rotate-kek``): the one it
    # replaces, so keys it wrapped can still be read and re-wrapped under the new one.
    previous_key_encryption_key: str | None = None
    previous_key_encryption_key_file: Path | None = None

    # Network addresses.
    host: str = "127.0.0.1"
    hub_port: int = 8000
    hub_url: str | None = None

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def shop_list(self) -> list[str]:
        return [check_shop_slug(s.strip()) for s in self.shops.split(",") if s.strip()]

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def production_problems(self, role: Role) -> list[str]:
        """What makes these settings unsafe for ``role`` in production (nothing outside it).

        Every process needs the network key; only the hub holds private signing keys, so
        only it needs the key-encryption key. Development tokens are refused in production,
        so their secret does not matter there."""
        if not self.is_production:
            return []
        problems = []
        if not self.network_key:
            problems.append("MALLNET_NETWORK_KEY is not set")
        elif reason := _weak_secret(self.network_key):
            problems.append(f"MALLNET_NETWORK_KEY {reason}")
        if role == "hub" and not (self.key_encryption_key or self.key_encryption_key_file):
            problems.append(
                "no key-encryption key: set MALLNET_KEY_ENCRYPTION_KEY or "
                "MALLNET_KEY_ENCRYPTION_KEY_FILE"
            )
        problems += self._hook_problems()
        if role == "node":
            problems += [
                f"{name} is set for a node: only the hub holds the mall's messaging "
                "secrets (a node sends on the mall's account through the hub)"
                for name, value in (
                    ("MALLNET_KAVENEGAR_API_KEY", self.kavenegar_api_key),
                    ("MALLNET_KAVENEGAR_CODES_API_KEY", self.kavenegar_codes_api_key),
                    ("MALLNET_TELEGRAM_BOT_TOKEN", self.telegram_bot_token),
                )
                if value
            ]
        return problems

    def _hook_problems(self) -> list[str]:
        """The webhooks' secrets are all that stands between the internet and a forged
        Telegram contact (a sign-up as anyone) or a forged «لغو» (anyone opted out): when
        given, they must be real secrets. Telegram without one is refused outright."""
        given = {
            "MALLNET_TELEGRAM_WEBHOOK_SECRET": self.telegram_webhook_secret,
            "MALLNET_KAVENEGAR_HOOK_SECRET": self.kavenegar_hook_secret,
        } | {
            f"the hook_secret of {shop} in MALLNET_SMS_SHOP_ACCOUNTS_SECRET": account.get(
                "hook_secret"
            )
            for shop, account in self.sms_shop_accounts_secret.items()
        }
        problems = [
            f"{name} {reason}"
            for name, value in given.items()
            if value is not None and (reason := _weak_secret(value))
        ]
        if self.telegram_bot_token and not self.telegram_webhook_secret:
            problems.append(
                "MALLNET_TELEGRAM_BOT_TOKEN is set without MALLNET_TELEGRAM_WEBHOOK_SECRET"
            )
        return problems

    def require_safe_secrets(self, role: Role) -> None:
        if problems := self.production_problems(role):
            raise InsecureSettings(
                f"refusing to run the {role} in production: {'; '.join(problems)}. Give each "
                f"secret at least {MIN_SECRET_LENGTH} random characters, e.g. from "
                "'python -c \"import secrets; print(secrets.token_urlsafe(32))\"' (a "
                "key-encryption key: 'mallnet keys new-kek')"
            )

    def redacted(self) -> dict[str, object]:
        """The settings as ``mallnet config`` shows them: secrets and URL passwords hidden."""
        shown: dict[str, object] = {}
        for name, value in self.model_dump().items():
            if value not in (None, "") and is_secret_setting(name):
                shown[name] = REDACTED
            elif isinstance(value, str):
                shown[name] = redact_url(value)
            else:
                shown[name] = value
        return shown

    def sqlite_path(self, name: str) -> Path:
        return self.data_dir / f"{name}.sqlite"

    @property
    def hub_db_url(self) -> str:
        return self.hub_database_url or f"sqlite+aiosqlite:///{self.sqlite_path('hub')}"

    def node_db_url(self, shop: str) -> str:
        check_shop_slug(shop)
        template = (
            self.node_database_url or f"sqlite+aiosqlite:///{self.data_dir}/node-{{shop}}.sqlite"
        )
        if "{shop}" not in template:
            raise ValueError(
                "MALLNET_NODE_DATABASE_URL must contain '{shop}': every node has its own database"
            )
        return template.replace("{shop}", shop.replace("-", "_"))

    @property
    def celery_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.sqlite_path('celery-broker')}"

    @property
    def celery_result_backend(self) -> str:
        return self.result_backend or f"db+sqlite:///{self.sqlite_path('celery-results')}"

    @property
    def embedded_broker(self) -> bool:
        return self.celery_broker_url.startswith("sqla+sqlite")

    @property
    def public_hub_url(self) -> str:
        return self.hub_url or f"http://{self.host}:{self.hub_port}"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
