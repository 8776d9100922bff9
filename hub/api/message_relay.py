"""A node's messages on the mall's account (``relayMessage``, ``relayedMessageStatuses``):
scope ``node:federate``, and the token says which shop asks — no argument names a shop.
The checks and the budgets are ``hub.services.message_relay``'s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import strawberry

from graphql import GraphQLError
from hub.api.access import node_of
from hub.api.problems import IdempotencyConflict, InvalidInput
from hub.domain.problems import HubError, ProblemCode
from hub.services.message_relay import MessageRelay, NotRelayed, RelayAsk, RelayLimits, RelayRefusal
from mallnet.authz import guard_fields, requires
from mallnet.config import Settings
from mallnet.gql import Rial
from mallnet.messaging.setup import MessagingNotConfigured, channels_for, quiet_hours
from mallnet.ratelimit import Rule, limiter_for
from mallnet.scopes import Scope
from mallnet.secrets_store import network_key

strawberry.enum(RelayRefusal, description="Why the hub did not send a node's message.")

STATUS_READS = Rule.of("relay-statuses", "4 per minute")


@strawberry.type(description="The hub sent the message on the mall's account.")
class MessageRelayed:
    provider: str = strawberry.field(description="kavenegar, telegram or file.")
    provider_id: str | None = strawberry.field(
        description="The provider's id of the message (ask relayedMessageStatuses with it)."
    )
    cost_rial: Rial | None = strawberry.field(description="The provider's price, if it said.")
    delivered: bool = strawberry.field(description="Delivered already (Telegram, the file).")


@strawberry.type(description="The hub did not send the message.")
class MessageNotRelayed:
    refusal: RelayRefusal
    reason: str
    temporary: bool = strawberry.field(description="Ask again later (with the same key).")
    retry_after_s: int | None = strawberry.field(description="When asking again may help.")


@strawberry.type(description="What the provider last said about a relayed SMS.")
class RelayedStatus:
    provider_id: str
    state: str = strawberry.field(description="sent, delivered or failed.")
    detail: str = strawberry.field(description="The provider's own words.")


guard_fields(MessageRelayed, Scope.NODE_FEDERATE)
guard_fields(MessageNotRelayed, Scope.NODE_FEDERATE)
guard_fields(RelayedStatus, Scope.NODE_FEDERATE)

RelayMessageResult = Annotated[
    MessageRelayed | MessageNotRelayed | InvalidInput | IdempotencyConflict,
    strawberry.union("RelayMessageResult"),
]


@asynccontextmanager
async def _relay(info: strawberry.Info, shop: str) -> AsyncIterator[MessageRelay]:
    state: Any = info.context["state"]
    settings: Settings = state.settings
    limits = RelayLimits(
        sms_parts_per_day=settings.relay_sms_parts_per_day,
        per_person_per_day=settings.relay_per_person_per_day,
        telegram_per_day=settings.relay_telegram_per_day,
        quiet=quiet_hours(settings),
        # Telegram's worst case is two calls (getMe, sendMessage) of connect, write and
        # read each: the lease outlasts it, so a live attempt is never taken again.
        lease_s=int(settings.message_timeout_s * 4) + 60,
    )
    async with channels_for(settings, shop) as channels:
        yield MessageRelay(
            sessions=state.sessions,
            network_key=network_key(settings),
            channels=channels,
            rate=state.send_rate,
            limits=limits,
        )


@strawberry.type
class MessageRelayMutation:
    @strawberry.mutation(
        extensions=requires(Scope.NODE_FEDERATE),
        description="Send one of the calling shop's messages on the mall's SMS lines or "
        "Telegram bot, after the mall's checks: the recipient is the shop's member, a "
        "promotional message has her consent and waits out the quiet hours, the shop's day "
        "stays in its budget. The same key again answers as the first time and sends "
        "nothing more.",
    )
    async def relay_message(
        self,
        info: strawberry.Info,
        key: str,
        kind: str,
        medium: str,
        line: str,
        to: str,
        text: str,
    ) -> RelayMessageResult:
        shop = node_of(info)
        ask = RelayAsk(key, kind, medium, line, to, text)  # type: ignore[arg-type]
        try:
            async with _relay(info, shop) as relay:
                outcome = await relay.send(shop, ask)
        except HubError as exc:
            if exc.code == ProblemCode.IDEMPOTENCY_CONFLICT:
                return IdempotencyConflict.of(exc.message, exc.field)
            return InvalidInput.of(exc.message, exc.field)
        except MessagingNotConfigured as exc:
            outcome = NotRelayed(RelayRefusal.NOT_CONFIGURED, str(exc), temporary=False)
        if isinstance(outcome, NotRelayed):
            return MessageNotRelayed(
                refusal=outcome.code,
                reason=outcome.reason,
                temporary=outcome.temporary,
                retry_after_s=outcome.retry_after_s,
            )
        return MessageRelayed(
            provider=outcome.provider,
            provider_id=outcome.provider_id,
            cost_rial=None if outcome.cost_rial is None else Rial(outcome.cost_rial),
            delivered=outcome.delivered,
        )


@strawberry.type
class MessageRelayQuery:
    @strawberry.field(
        extensions=requires(Scope.NODE_FEDERATE),
        description="Delivery reports of the calling shop's relayed SMS (at most 500 ids; ids "
        "of other shops' messages, or unknown, are left out). At most 4 reads a minute per "
        "shop (a RATE_LIMITED error).",
    )
    async def relayed_message_statuses(
        self, info: strawberry.Info, provider_ids: list[str]
    ) -> list[RelayedStatus]:
        shop = node_of(info)
        # Each read asks the mall's provider: a node polls once a minute; more would spend
        # the account's call rate that every sender shares.
        if not await limiter_for(info.context["state"]).hit(STATUS_READS.on(shop)):
            raise GraphQLError(
                f"at most {STATUS_READS.item.amount} reads a minute per shop: ask again later",
                extensions={"code": "RATE_LIMITED"},
            )
        try:
            async with _relay(info, shop) as relay:
                found = await relay.statuses(shop, provider_ids)
        except HubError as exc:
            raise GraphQLError(exc.message, extensions={"code": exc.code.value}) from exc
        except MessagingNotConfigured:
            return []
        return [
            RelayedStatus(provider_id=i, state=s.state, detail=s.detail) for i, s in found.items()
        ]
