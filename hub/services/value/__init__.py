"""Network value: pooled points, general and targeted credit, held by the hub as lots in
a double-entry, insert-only ledger.

One module per job — ``ledger`` (the writer), ``pricing`` (point value, issuance policies),
``issuance`` (lots and clawbacks), ``holds`` (two-phase redemption), ``refunds``,
``expiry``, ``wallet`` (what a shopper has), ``audit``, ``reconcile`` (every capture has
its purchase event, or is reversed) — and this package's names are the
use cases the API, tasks and intake call: ``from hub.services import value; value.hold(...)``.
"""

from __future__ import annotations

from hub.domain.value_rules import PurchaseFacts, unit_of
from hub.services.value.audit import Totals, totals, verify
from hub.services.value.expiry import expire_lots
from hub.services.value.holds import (
    ALL_KINDS,
    DEFAULT_HOLD_TTL_S,
    HoldInput,
    HoldOutcome,
    capture,
    expire_holds,
    hold,
    void,
)
from hub.services.value.issuance import (
    IssueInput,
    clawback_for_refund,
    grant_reason,
    issue,
    issue_for_purchase,
    purchase_origin,
    record_purchase_total,
)
from hub.services.value.ledger import LOTS, POSTINGS, NetworkValueError
from hub.services.value.pricing import (
    DEFAULT_RIAL_PER_POINT,
    issuance_policy,
    point_value_at,
    point_values,
    set_issuance_policy,
    set_point_value,
)
from hub.services.value.reconcile import (
    DEFAULT_MATCH_WINDOW,
    PurchaseClaim,
    capture_flags,
    lock_holds,
    match_purchase,
    reverse_unmatched,
    waiting_captures,
)
from hub.services.value.refunds import REFUND_LOT_DAYS, lock_for_refund, refund
from hub.services.value.wallet import (
    Balance,
    Expiry,
    ShopInfo,
    Summary,
    history,
    lot_view,
    shop_directory,
    shop_names,
    spendable_at,
    summary,
)

__all__ = [
    "ALL_KINDS",
    "DEFAULT_HOLD_TTL_S",
    "DEFAULT_MATCH_WINDOW",
    "DEFAULT_RIAL_PER_POINT",
    "LOTS",
    "POSTINGS",
    "REFUND_LOT_DAYS",
    "Balance",
    "Expiry",
    "HoldInput",
    "HoldOutcome",
    "IssueInput",
    "NetworkValueError",
    "PurchaseClaim",
    "PurchaseFacts",
    "ShopInfo",
    "Summary",
    "Totals",
    "capture",
    "capture_flags",
    "clawback_for_refund",
    "expire_holds",
    "expire_lots",
    "grant_reason",
    "history",
    "hold",
    "issuance_policy",
    "issue",
    "issue_for_purchase",
    "lock_for_refund",
    "lock_holds",
    "lot_view",
    "match_purchase",
    "point_value_at",
    "point_values",
    "purchase_origin",
    "record_purchase_total",
    "refund",
    "reverse_unmatched",
    "set_issuance_policy",
    "set_point_value",
    "shop_directory",
    "shop_names",
    "spendable_at",
    "summary",
    "totals",
    "unit_of",
    "verify",
    "void",
    "waiting_captures",
]
