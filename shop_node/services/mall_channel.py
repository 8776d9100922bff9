"""A channel on the mall's account: the node hands the message to the hub (``relayMessage``),
which checks it against what the hub knows and sends it with the mall's SMS key or bot
token, neither of which a node holds (``hub.services.message_relay``).

The hub answers a key it has seen with its first answer, so a message whose worker died
mid-send may be handed over again: the person still gets it once (``drops_repeats``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from federation.client import HubConnection, HubRefused, HubUnavailable
from mallnet.messaging.channels import (
    Delivery,
    Outgoing,
    PermanentFailure,
    Receipt,
    Status,
    TemporaryFailure,
)

_STATES: dict[str, Delivery] = {"sent": "sent", "delivered": "delivered", "failed": "failed"}


@dataclass
class MallChannel:
    """``medium`` ("sms" or "telegram") on the mall's account, through ``hub``."""

    medium_name: str
    # None while the node is not connected to the hub (``mallnet node-connect``).
    hub: HubConnection | None

    @property
    def medium(self) -> str:
        return self.medium_name

    @property
    def provider(self) -> str:
        return f"mall-{self.medium_name}"

    @property
    def drops_repeats(self) -> bool:
        return True

    async def send(self, message: Outgoing) -> Receipt:
        if self.hub is None:
            raise TemporaryFailure("this node is not connected to the hub yet")
        ask = {
            "key": message.key,
            "kind": message.kind,
            "medium": self.medium_name,
            "line": message.line,
            "to": message.to,
            "text": message.text,
        }
        try:
            answer = await self.hub.relay_message(ask)
        except HubRefused as exc:
            raise PermanentFailure(f"the hub refused it: {exc.message}", code=exc.code) from exc
        except HubUnavailable as exc:
            raise TemporaryFailure(f"the hub did not take it: {exc}") from exc
        if answer["__typename"] == "MessageNotRelayed":
            raise _refusal(answer)
        cost = answer.get("costRial")
        return Receipt(
            provider_id=answer.get("providerId"),
            cost_rial=cost if isinstance(cost, int) else None,
            delivered=bool(answer.get("delivered")),
        )

    async def statuses(self, provider_ids: Sequence[str]) -> Mapping[str, Status]:
        if self.hub is None or not provider_ids:
            return {}
        try:
            entries = await self.hub.relayed_statuses(list(provider_ids))
        except (HubRefused, HubUnavailable):
            return {}
        asked = set(provider_ids)
        return {
            str(e["providerId"]): Status(state, detail=str(e.get("detail") or ""))
            for e in entries
            if e.get("providerId") in asked and (state := _STATES.get(str(e.get("state"))))
        }


def _refusal(answer: Mapping[str, Any]) -> TemporaryFailure | PermanentFailure:
    code = str(answer.get("refusal"))
    reason = f"the mall's hub: {answer.get('reason')} ({code})"
    if answer.get("temporary"):
        wait = answer.get("retryAfterS")
        return TemporaryFailure(
            reason, code=code, retry_after_s=float(wait) if isinstance(wait, int) else None
        )
    return PermanentFailure(reason, code=code)
