"""Drives a real node app over HTTP with the operation documents clients use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from starlette.testclient import TestClient

from mallnet.cli.sdl import operation_document
from mallnet.config import Settings
from mallnet.devtokens import issue

T = TypeVar("T")


TEST_POLICY: dict[str, Any] = {
    "open_club": True,
    "welcome_points": 20,
    "welcome_credit_rial": 10_000,
    "product_groups": [
        {"code": "books", "name_fa": "کتاب", "name_en": "Books", "margin_bp": 2500},
        {"code": "stationery", "name_fa": "لوازم‌التحریر", "name_en": "Stationery"},
    ],
    "earning": {"credit_bp": 500, "points": 1, "per_rial": 10_000},
    "earning_by_group": {"books": {"credit_bp": 1000, "points": 1, "per_rial": 10_000}},
    "tier_basis": "earned_points",
    "tiers": [
        {"code": "bronze", "name_fa": "برنزی", "name_en": "Bronze", "threshold": 0},
        {
            "code": "silver",
            "name_fa": "نقره‌ای",
            "name_en": "Silver",
            "threshold": 100,
            "multiplier_bp": 15_000,
        },
    ],
    "frequency": {"every_visits": 3, "reward_points": 10},
    "points_valid_days": 365,
    "credit_valid_days": 30,
}


class NodeClient:
    def __init__(self, http: TestClient, settings: Settings, shop: str, scopes: list[str]) -> None:
        self.http = http
        self.settings = settings
        self.shop = shop
        self.token = self.token_for(scopes)

    def token_for(self, scopes: list[str], shop: str | None = None) -> str:
        return issue(self.settings, audience=shop or self.shop, scopes=scopes, subject="staff:test")

    def raw(self, operation: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
        headers = {} if token == "" else {"Authorization": f"Bearer {token or self.token}"}
        response = self.http.post(
            "/graphql",
            json={
                "query": operation_document("node", operation),
                "operationName": operation,
                "variables": variables,
            },
            headers=headers,
        )
        body: dict[str, Any] = response.json()
        body["status"] = response.status_code
        return body

    def op(self, operation: str, **variables: Any) -> dict[str, Any]:
        body = self.raw(operation, **variables)
        assert body["status"] == 200, body
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run ``fn`` on the app's own event loop (its database pool lives there)."""
        portal = self.http.portal
        assert portal is not None, "use the client inside its 'with' block"
        return portal.call(fn, *args)

    @property
    def runtime(self) -> Any:
        return self.http.app.state.runtime  # type: ignore[attr-defined]
