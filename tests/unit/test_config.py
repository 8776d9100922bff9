from __future__ import annotations

from pathlib import Path

import pytest

from mallnet.config import InvalidShopSlug, Settings, check_shop_slug


def test_embedded_defaults_live_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.hub_db_url == f"sqlite+aiosqlite:///{tmp_path}/hub.sqlite"
    assert settings.node_db_url("ketab-sara") == (
        f"sqlite+aiosqlite:///{tmp_path}/node-ketab_sara.sqlite"
    )
    assert settings.celery_broker_url == f"sqla+sqlite:///{tmp_path}/celery-broker.sqlite"
    assert settings.celery_result_backend == f"db+sqlite:///{tmp_path}/celery-results.sqlite"
    assert settings.embedded_broker


def test_environment_variables_use_the_mallnet_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MALLNET_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MALLNET_ENVIRONMENT", "production")
    monkeypatch.setenv("MALLNET_HUB_DATABASE_URL", "postgresql+asyncpg://pg/mallnet_hub")
    monkeypatch.setenv("MALLNET_NODE_DATABASE_URL", "postgresql+asyncpg://pg/mallnet_node_{shop}")
    monkeypatch.setenv("MALLNET_BROKER_URL", "redis://redis:6379/0")
    settings = Settings()
    assert settings.is_production
    assert settings.hub_db_url == "postgresql+asyncpg://pg/mallnet_hub"
    assert settings.node_db_url("kafsh-arya") == "postgresql+asyncpg://pg/mallnet_node_kafsh_arya"
    assert settings.celery_broker_url == "redis://redis:6379/0"
    assert not settings.embedded_broker


def test_relative_data_dir_is_resolved(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert Settings(data_dir=Path("var")).data_dir == tmp_path / "var"


def test_node_url_without_shop_placeholder_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, node_database_url="postgresql+asyncpg://pg/shared")
    with pytest.raises(ValueError, match=r"\{shop\}"):
        settings.node_db_url("ketab-sara")


@pytest.mark.parametrize("slug", ["ketab-sara", "abc", "cafe-2", "a" * 40])
def test_valid_shop_slugs(slug: str) -> None:
    assert check_shop_slug(slug) == slug


@pytest.mark.parametrize(
    "slug", ["", "ab", "Ketab", "2cafe", "cafe-", "کتاب", "a b", "a_b", "a" * 41, "x;drop"]
)
def test_invalid_shop_slugs_are_refused(slug: str) -> None:
    with pytest.raises(InvalidShopSlug, match="shop slug"):
        check_shop_slug(slug)
