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

SHOP_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$")


class InvalidShopSlug(ValueError):
    """A shop slug is not 3-40 characters of lowercase ASCII letters, digits and hyphens."""


def check_shop_slug(slug: str) -> str:
    if not SHOP_SLUG.fullmatch(slug):
        raise InvalidShopSlug(
            f"shop slug {slug!r} is invalid: use 3-40 lowercase letters, digits and hyphens, "
            "starting with a letter (e.g. 'ketab-sara')"
        )
    return slug


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
