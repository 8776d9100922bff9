"""The hub's tables (SQLAlchemy models), one module per area; the migrations live in
``hub/db/migrations``.

Every table is importable from here (``from hub.db.models import Shop``), and importing any
of the modules loads them all, so ``Base.metadata`` always holds every table (foreign keys
name their targets by table, across modules).
"""

from __future__ import annotations

from hub.db.models.auth import (
    AuthorizationCode,
    OneTimeCode,
    RefreshToken,
    SignInFailure,
    SigningKey,
)
from hub.db.models.base import BIG_ID, Base
from hub.db.models.campaigns import (
    Campaign,
    CampaignReward,
    CampaignShop,
    CampaignVisit,
    Lottery,
    LotteryEntrant,
    LotteryEntry,
    LotteryTicketList,
    PrizeClaim,
    ShopSalesDay,
)
from hub.db.models.faces import FaceLogin, FaceSession
from hub.db.models.federation import (
    FederationConflict,
    FederationEvent,
    InboxCommand,
    NodeCursor,
    NodeStream,
)
from hub.db.models.grants import RedemptionGrant, RedemptionPin, RedemptionShopGuard
from hub.db.models.heartbeat import WorkerHeartbeat
from hub.db.models.messages import Message
from hub.db.models.offers import ShopOffer, ShopOfferGrant
from hub.db.models.partnerships import PartnerOffer, PartnerOptIn, Referral
from hub.db.models.people import LocalBalance, Membership, Shopper
from hub.db.models.registry import OAuthClient, Shop, StaffChange, User
from hub.db.models.relay import RelayedMessage
from hub.db.models.settlement import (
    PrepaidAccount,
    PrepaidMovement,
    SettlementBreakage,
    SettlementCorrection,
    SettlementEntry,
    SettlementInstruction,
    SettlementItem,
    SettlementLine,
    SettlementPending,
    SettlementPeriod,
    SettlementPolicyVersion,
    SettlementPosition,
)
from hub.db.models.telegram import TelegramLink, TelegramLinkCode, TelegramUpdate
from hub.db.models.value import (
    CAPTURE_FLAG_KINDS,
    LOT_KINDS,
    CaptureFlag,
    IssuancePolicy,
    PointValue,
    PurchaseRefund,
    PurchaseTotal,
    ValueHold,
    ValueHoldLot,
    ValueLot,
    ValuePosting,
    ValueRedemption,
    ValueTransaction,
)

__all__ = [
    "BIG_ID",
    "CAPTURE_FLAG_KINDS",
    "LOT_KINDS",
    "AuthorizationCode",
    "Base",
    "Campaign",
    "CampaignReward",
    "CampaignShop",
    "CampaignVisit",
    "CaptureFlag",
    "FaceLogin",
    "FaceSession",
    "FederationConflict",
    "FederationEvent",
    "InboxCommand",
    "IssuancePolicy",
    "LocalBalance",
    "Lottery",
    "LotteryEntrant",
    "LotteryEntry",
    "LotteryTicketList",
    "Membership",
    "Message",
    "NodeCursor",
    "NodeStream",
    "OAuthClient",
    "OneTimeCode",
    "PartnerOffer",
    "PartnerOptIn",
    "PointValue",
    "PrepaidAccount",
    "PrepaidMovement",
    "PrizeClaim",
    "PurchaseRefund",
    "PurchaseTotal",
    "RedemptionGrant",
    "RedemptionPin",
    "RedemptionShopGuard",
    "Referral",
    "RefreshToken",
    "RelayedMessage",
    "SettlementBreakage",
    "SettlementCorrection",
    "SettlementEntry",
    "SettlementInstruction",
    "SettlementItem",
    "SettlementLine",
    "SettlementPending",
    "SettlementPeriod",
    "SettlementPolicyVersion",
    "SettlementPosition",
    "Shop",
    "ShopOffer",
    "ShopOfferGrant",
    "ShopSalesDay",
    "Shopper",
    "SignInFailure",
    "SigningKey",
    "StaffChange",
    "TelegramLink",
    "TelegramLinkCode",
    "TelegramUpdate",
    "User",
    "ValueHold",
    "ValueHoldLot",
    "ValueLot",
    "ValuePosting",
    "ValueRedemption",
    "ValueTransaction",
    "WorkerHeartbeat",
]
