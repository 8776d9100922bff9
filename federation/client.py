"""The typed client a node uses to talk to the hub: a client_credentials token (reused
until shortly before it expires) and the GraphQL operations of the protocol. While its
shop is suspended the hub gives the node only ``node:inbox``: it still pulls its inbox,
and every other call fails with ``ShopSuspended``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from federation.problems import HubProblemCode
from mallnet.scopes import SHOP_SUSPENDED, Scope

INGEST = """
mutation Ingest($events: JSON!, $backlog: BacklogInput) {
  ingestEvents(events: $events, backlog: $backlog) {
    __typename
    ... on IngestResult { accepted duplicates conflicts acknowledged contiguousSeq highestSeq gaps }
    ... on HubProblem { code message }
  }
}
"""


OFFER_FIELDS = """id hostShop originShops originCategory minPurchaseRial originGroups
  firstPurchaseOnly monthlyCap welcomePoints welcomeCreditRial status"""
OFFERS = f"query Offers {{ partnerOffers {{ {OFFER_FIELDS} }} }}"
PUBLISH = f"""mutation Publish($input: PartnerOfferInput!) {{ publishPartnerOffer(input: $input) {{
  __typename ... on PartnerOffer {{ {OFFER_FIELDS} }} ... on HubProblem {{ code message }} }} }}"""
OPT_IN = f"""mutation OptIn($id: String!) {{ optInToPartnerOffer(offerId: $id) {{
  __typename ... on PartnerOffer {{ {OFFER_FIELDS} }} ... on HubProblem {{ code message }} }} }}"""
HOLD_FIELDS = """id pseudonym purchaseRef requestedRial heldRial capturedRial refundedRial status
  expiresAt replayed portions { kind issuerShop units rialPerUnit capturedUnits refundedUnits }"""
_HOLD_RESULT = f"""__typename ... on NetworkHold {{ {HOLD_FIELDS} }}
  ... on HubProblem {{ code message }}"""
HOLD = f"""mutation Hold($input: HoldInput!) {{
  holdNetworkValue(input: $input) {{ {_HOLD_RESULT} }} }}"""
CAPTURE = f"""mutation Capture($id: String!, $pseudonym: String!, $amount: Rial, $ref: String,
  $upTo: Rial) {{
  captureNetworkHold(holdId: $id, pseudonym: $pseudonym, amountRial: $amount, purchaseRef: $ref,
    upToRial: $upTo) {{ {_HOLD_RESULT} }} }}"""
VOID = f"""mutation Void($id: String!) {{ voidNetworkHold(holdId: $id) {{ {_HOLD_RESULT} }} }}"""
HAS_VALUE = """query HasValue($pseudonym: String!) { hasNetworkValue(pseudonym: $pseudonym) }"""
SEND_CODE = """mutation SendCode($phone: String!, $pseudonym: String!, $maxRial: Rial) {
  sendRedemptionCode(phone: $phone, pseudonym: $pseudonym, maxRial: $maxRial) {
  __typename ... on RedemptionCodeSent { expiresAt maxRial }
  ... on HubProblem { code message } } }"""
RELAY = """mutation Relay($key: String!, $kind: String!, $medium: String!, $line: String!,
  $to: String!, $text: String!) { relayMessage(key: $key, kind: $kind, medium: $medium,
  line: $line, to: $to, text: $text) { __typename
    ... on MessageRelayed { provider providerId costRial delivered }
    ... on MessageNotRelayed { refusal reason temporary retryAfterS }
    ... on HubProblem { code message } } }"""
RELAYED_STATUSES = """query RelayedStatuses($ids: [String!]!) {
  relayedMessageStatuses(providerIds: $ids) { providerId state detail } }"""
POLICY_FIELDS = "shop version policy effectiveFrom"
POLICY = f"query Policy {{ issuancePolicy {{ {POLICY_FIELDS} }} }}"
SET_POLICY = f"""mutation SetPolicy($policy: JSON!) {{ setIssuancePolicy(policy: $policy) {{
  __typename ... on IssuancePolicy {{ {POLICY_FIELDS} }}
  ... on HubProblem {{ code message }} }} }}"""
PERIODS = """query Periods($first: Int!, $offset: Int!) {
  settlementPeriods(first: $first, offset: $offset) {
  id label startsAt endsAt status closedAt captures digest } }"""
# Everything a statement holds, with a page of its lines: the node rebuilds it to show it,
# and gathers every page to render CSV and PDF itself.
STATEMENT_FIELDS = """periodId periodLabel startsAt endsAt closedAt shop shopNameFa shopNameEn
  funding grossReceivableRial feesRial grossPayableRial coveredByPrepaymentRial correctionsRial
  positionRial digest lineCount
  lines(first: $first, offset: $offset) { kind ref at receipt holdId lotId valueKind issuer
  redeemer grossRial feeRial netRial memo } payments { payer payee amountRial kind }"""
STATEMENT = f"""query Statement($period: Int!, $first: Int!, $offset: Int!) {{
  settlementStatement(periodId: $period) {{
  __typename ... on SettlementStatement {{ {STATEMENT_FIELDS} }}
  ... on HubProblem {{ code message }} }} }}"""
STATEMENT_PAGE = 200  # the most lines the hub gives in one page (its ``lines`` maximum)
MAX_STATEMENT_LINES = 1_000_000  # more than any shop's period: a hub claiming more is wrong
INVITATION_FIELDS = "id kind nameFa shop status"
INVITATIONS = f"query Invitations {{ invitations {{ {INVITATION_FIELDS} }} }}"
RESPOND = f"""mutation Respond($id: String!, $accept: Boolean!) {{
  respondToInvitation(id: $id, accept: $accept) {{
  __typename ... on Invitation {{ {INVITATION_FIELDS} }}
  ... on HubProblem {{ code message }} }} }}"""
CLAIM_FIELDS = "lotteryId place shop claimedAt"
CLAIM = f"""mutation Claim($lottery: String!, $place: Int!) {{
  claimPrize(lotteryId: $lottery, place: $place) {{
  __typename ... on PrizeClaimView {{ {CLAIM_FIELDS} }}
  ... on HubProblem {{ code message }} }} }}"""
LOTTERY_FIELDS = """id nameFa nameEn status stage drawAt commitment
  winners { place entrantId prizeFa sponsor claimedByShop }"""
LOTTERIES = f"query Lotteries {{ lotteries {{ {LOTTERY_FIELDS} }} }}"
STAFF_FIELDS = "id username role shop createdAt disabledAt active"
_PROBLEM = "... on HubProblem { code message }"
STAFF_ACCOUNTS = f"""query Staff($acting: String!, $first: Int!, $after: String) {{
  staffAccounts(actingStaff: $acting, first: $first, after: $after) {{
  __typename ... on StaffAccountList {{ items {{ {STAFF_FIELDS} }} hasMore }} {_PROBLEM} }} }}"""
CREATE_STAFF = f"""mutation CreateStaff($input: CreateStaffAccountInput!, $acting: String!) {{
  createStaffAccount(input: $input, actingStaff: $acting) {{
  __typename ... on StaffAccount {{ {STAFF_FIELDS} }} {_PROBLEM} }} }}"""
_STAFF_CHANGE = """mutation {name}($id: ID!, $acting: String!) {{
  {field}(id: $id, actingStaff: $acting) {{
  __typename ... on StaffAccount {{ {fields} }} {problem} }} }}"""
DISABLE_STAFF = _STAFF_CHANGE.format(
    name="DisableStaff", field="disableStaffAccount", fields=STAFF_FIELDS, problem=_PROBLEM
)
ENABLE_STAFF = _STAFF_CHANGE.format(
    name="EnableStaff", field="enableStaffAccount", fields=STAFF_FIELDS, problem=_PROBLEM
)
RESET_STAFF_PASSWORD = f"""mutation ResetStaff($id: ID!, $password: String, $acting: String!) {{
  resetStaffPassword(id: $id, newPassword: $password, actingStaff: $acting) {{
  __typename ... on PasswordReset {{ generatedPassword account {{ {STAFF_FIELDS} }} }}
  {_PROBLEM} }} }}"""
CHANGE_STAFF_ROLE = f"""mutation StaffRole($id: ID!, $role: StaffRole!, $acting: String!) {{
  changeStaffRole(id: $id, role: $role, actingStaff: $acting) {{
  __typename ... on StaffAccount {{ {STAFF_FIELDS} }} {_PROBLEM} }} }}"""
INBOX = "query Inbox($limit: Int!) { inbox(limit: $limit) { cursor envelope } }"
ACK = "mutation Ack($upTo: Int!) { ackInbox(upTo: $upTo) }"


class HubUnavailable(Exception):
    """The hub could not be reached or refused the node's credentials; retry later."""


class TokenRefused(HubUnavailable):
    """The hub refused the node's access token (HTTP 401): expired, revoked, or its shop
    suspended since it was issued. The next call asks for a new one."""


class ShopSuspended(HubUnavailable):
    """The hub gives this node no token for ``node:federate``: its shop is suspended. It
    may still pull and acknowledge its inbox (``node:inbox``); nothing else, until the
    mall reactivates the shop."""


class HubUncertain(HubUnavailable):
    """The request may have reached the hub and taken effect, but no answer came back (a
    timeout, a 5xx): retry the same idempotent request to learn its outcome."""


class HubRefused(Exception):
    """The hub answered with a problem: the request is wrong as it stands (it will not pass
    on retry); ``code`` says which problem."""

    def __init__(self, code: HubProblemCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message

    @classmethod
    def of(cls, problem: dict[str, Any]) -> HubRefused:
        """The refusal a problem result (``... on HubProblem { code message }``) says.

        A code this node does not know comes from a newer hub: the node cannot tell what
        was refused, so it treats the answer as no answer (retried later, nothing set
        aside) until it is upgraded.
        """
        try:
            code = HubProblemCode(problem["code"])
        except ValueError:
            raise HubUnavailable(
                f"the hub answered a problem this node does not know ({problem['code']}: "
                f"{problem.get('message')}); upgrade the node"
            ) from None
        return cls(code, str(problem.get("message", "")))


def _suspended(response: httpx.Response) -> bool:
    """Whether the token endpoint refused because the node's shop is suspended."""
    try:
        body = response.json()
    except ValueError:
        return False
    if not isinstance(body, dict) or body.get("error") != "unauthorized_client":
        return False
    description = body.get("error_description")
    return isinstance(description, str) and description.startswith(SHOP_SUSPENDED)


@dataclass
class HubConnection:
    hub_url: str
    client_id: str
    client_secret: str
    timeout_s: float = 10.0
    # One token per scope asked for, each reused until shortly before it expires.
    _tokens: dict[str, tuple[str, float]] = field(default_factory=dict, init=False, repr=False)

    async def _access_token(
        self, client: httpx.AsyncClient, scope: Scope = Scope.NODE_FEDERATE
    ) -> str:
        cached = self._tokens.get(scope)
        if cached is not None and cached[1] - 30 > time.time():
            return cached[0]
        response = await client.post(
            f"{self.hub_url}/oauth/token",
            data={"grant_type": "client_credentials", "scope": scope.value},
            auth=(self.client_id, self.client_secret),
        )
        if response.status_code != 200:
            if _suspended(response):
                raise ShopSuspended(f"the hub says this node's shop is suspended: {scope} refused")
            raise HubUnavailable(f"token refused ({response.status_code}): {response.text[:200]}")
        body = response.json()
        expires_at = time.time() + float(body.get("expires_in", 60))
        self._tokens[scope] = (body["access_token"], expires_at)
        return str(body["access_token"])

    async def _graphql(
        self, query: str, variables: dict[str, Any], scope: Scope = Scope.NODE_FEDERATE
    ) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=self.timeout_s) as client:
            try:
                token = await self._access_token(client, scope)
            except httpx.HTTPError as exc:
                raise HubUnavailable(f"hub unreachable: {exc!r}") from exc
            try:
                response = await client.post(
                    f"{self.hub_url}/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {token}"},
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise HubUnavailable(f"hub unreachable: {exc!r}") from exc
            except httpx.HTTPError as exc:  # sent, but no answer: it may have been applied
                raise HubUncertain(f"no answer from the hub: {exc!r}") from exc
        if response.status_code == 401:
            self._tokens.pop(scope, None)
            raise TokenRefused("the hub refused the node's token")
        if response.status_code >= 500:
            raise HubUncertain(f"hub answered {response.status_code}")
        if response.status_code != 200:
            raise HubUnavailable(f"hub answered {response.status_code}")
        body = response.json()
        if body.get("errors"):
            raise HubUnavailable(f"hub error: {body['errors'][0].get('message')}")
        data: dict[str, Any] = body["data"]
        return data

    async def partner_offers(self) -> list[dict[str, Any]]:
        offers: list[dict[str, Any]] = (await self._graphql(OFFERS, {}))["partnerOffers"]
        return offers

    async def publish_offer(self, offer: dict[str, Any]) -> dict[str, Any]:
        return self._answer((await self._graphql(PUBLISH, {"input": offer}))["publishPartnerOffer"])

    async def opt_in(self, offer_id: str) -> dict[str, Any]:
        return self._answer((await self._graphql(OPT_IN, {"id": offer_id}))["optInToPartnerOffer"])

    async def invitations(self) -> list[dict[str, Any]]:
        """This shop's invitations to campaigns and lotteries (fields of ``INVITATION_FIELDS``)."""
        found: list[dict[str, Any]] = (await self._graphql(INVITATIONS, {}))["invitations"]
        return found

    async def respond_to_invitation(self, id: str, accept: bool) -> dict[str, Any]:
        data = await self._graphql(RESPOND, {"id": id, "accept": accept})
        return self._answer(data["respondToInvitation"])

    async def claim_prize(self, lottery_id: str, place: int) -> dict[str, Any]:
        """Record that this shop handed the prize of ``place`` over to its winner."""
        data = await self._graphql(CLAIM, {"lottery": lottery_id, "place": place})
        return self._answer(data["claimPrize"])

    async def lotteries(self) -> list[dict[str, Any]]:
        """The mall's lotteries as published (fields of ``LOTTERY_FIELDS``), newest first."""
        found: list[dict[str, Any]] = (await self._graphql(LOTTERIES, {}))["lotteries"]
        return found

    @staticmethod
    def _answer(result: dict[str, Any]) -> dict[str, Any]:
        """A mutation's result, or the hub's problem raised as ``HubRefused`` (a problem is
        any result with a ``code``: every document selects it ``on HubProblem``)."""
        if "code" in result:
            raise HubRefused.of(result)
        return result

    async def hold(self, request: dict[str, Any]) -> dict[str, Any]:
        """Reserve network value (keys of the hub's HoldInput, camelCase; ``grant`` is the
        shopper's redemption code, without which the hub holds nothing)."""
        return self._answer((await self._graphql(HOLD, {"input": request}))["holdNetworkValue"])

    async def capture(
        self,
        hold_id: str,
        pseudonym: str,
        amount_rial: int | None = None,
        purchase_ref: str | None = None,
        up_to_rial: int | None = None,
    ) -> dict[str, Any]:
        """Capture a hold for a purchase of ``pseudonym`` (the hub refuses another shopper's
        hold: SHOPPER_MISMATCH)."""
        variables = {
            "id": hold_id,
            "pseudonym": pseudonym,
            "amount": amount_rial,
            "ref": purchase_ref,
            "upTo": up_to_rial,
        }
        data = await self._graphql(CAPTURE, variables)
        return self._answer(data["captureNetworkHold"])

    async def void(self, hold_id: str) -> dict[str, Any]:
        return self._answer((await self._graphql(VOID, {"id": hold_id}))["voidNetworkHold"])

    async def has_value(self, pseudonym: str) -> bool:
        """Whether the shopper has network value spendable here (no amounts without a grant)."""
        return bool((await self._graphql(HAS_VALUE, {"pseudonym": pseudonym}))["hasNetworkValue"])

    async def send_redemption_code(
        self, phone: str, pseudonym: str, max_rial: int | None = None
    ) -> dict[str, Any]:
        """Ask the hub to text the shopper a one-time redemption code for this shop."""
        variables = {"phone": phone, "pseudonym": pseudonym, "maxRial": max_rial}
        return self._answer((await self._graphql(SEND_CODE, variables))["sendRedemptionCode"])

    async def issuance_policy(self) -> dict[str, Any] | None:
        result: dict[str, Any] | None = (await self._graphql(POLICY, {}))["issuancePolicy"]
        return result

    async def set_issuance_policy(self, policy: dict[str, Any]) -> dict[str, Any]:
        data = await self._graphql(SET_POLICY, {"policy": policy})
        return self._answer(data["setIssuancePolicy"])

    async def settlement_periods(self, first: int = 30, offset: int = 0) -> list[dict[str, Any]]:
        """The network's settlement calendar, newest first (no other shop's figures)."""
        data = await self._graphql(PERIODS, {"first": first, "offset": offset})
        periods: list[dict[str, Any]] = data["settlementPeriods"]
        return periods

    async def settlement_statement(
        self, period_id: int, first: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        """This shop's statement for a closed period (fields of ``STATEMENT_FIELDS``), with
        ``first`` of its lines after ``offset`` and ``lineCount``."""
        variables = {"period": period_id, "first": first, "offset": offset}
        data = await self._graphql(STATEMENT, variables)
        return self._answer(data["settlementStatement"])

    async def whole_settlement_statement(self, period_id: int) -> dict[str, Any]:
        """The statement with every line, asked page by page (``STATEMENT_PAGE`` a page):
        what a file of it needs. A hub's answer is checked as it comes: a line count past
        ``MAX_STATEMENT_LINES``, or a page other than full (or the last, exactly the rest),
        is refused rather than followed."""
        whole = await self.settlement_statement(period_id, STATEMENT_PAGE)
        total = whole["lineCount"]
        if not isinstance(total, int) or not 0 <= total <= MAX_STATEMENT_LINES:
            raise HubUnavailable(f"statement {period_id}: {total!r} lines is not to be read")
        lines: list[dict[str, Any]] = whole["lines"]
        self._check_page(period_id, lines, 0, total)
        while len(lines) < total:
            page = await self.settlement_statement(period_id, STATEMENT_PAGE, len(lines))
            if page["lineCount"] != total:
                # A closed period's statement never changes: a hub answering otherwise
                # is not to be rendered from.
                raise HubUnavailable(
                    f"statement {period_id} changed while read ({len(lines)} of "
                    f"{total} lines, then {page['lineCount']}): ask again"
                )
            self._check_page(period_id, page["lines"], len(lines), total)
            lines.extend(page["lines"])
        return whole

    @staticmethod
    def _check_page(period_id: int, page: list[Any], offset: int, total: int) -> None:
        expected = min(STATEMENT_PAGE, total - offset)
        if len(page) != expected:
            raise HubUnavailable(
                f"statement {period_id}: {len(page)} lines from {offset}, not {expected}"
            )

    # Staff of this shop, managed from its dashboard: ``acting`` names the manager who asks
    # (``staff:<id>``); the hub acts only on this shop's staff, for an active manager of it.

    async def staff_accounts(
        self, acting: str, first: int = 50, after: str | None = None
    ) -> dict[str, Any]:
        """A page of this shop's staff by username: ``items`` and ``hasMore``."""
        variables = {"acting": acting, "first": first, "after": after}
        data = await self._graphql(STAFF_ACCOUNTS, variables)
        return self._answer(data["staffAccounts"])

    async def create_staff(
        self, acting: str, username: str, password: str, role: str
    ) -> dict[str, Any]:
        """``role``: the hub's StaffRole name (MANAGER, OPERATOR, AUDITOR)."""
        account = {"username": username, "password": password, "role": role}
        data = await self._graphql(CREATE_STAFF, {"input": account, "acting": acting})
        return self._answer(data["createStaffAccount"])

    async def disable_staff(self, acting: str, account_id: str) -> dict[str, Any]:
        data = await self._graphql(DISABLE_STAFF, {"id": account_id, "acting": acting})
        return self._answer(data["disableStaffAccount"])

    async def enable_staff(self, acting: str, account_id: str) -> dict[str, Any]:
        data = await self._graphql(ENABLE_STAFF, {"id": account_id, "acting": acting})
        return self._answer(data["enableStaffAccount"])

    async def reset_staff_password(
        self, acting: str, account_id: str, password: str | None = None
    ) -> dict[str, Any]:
        """The account and, when ``password`` is None, the one the hub chose (shown once)."""
        variables = {"id": account_id, "password": password, "acting": acting}
        data = await self._graphql(RESET_STAFF_PASSWORD, variables)
        return self._answer(data["resetStaffPassword"])

    async def change_staff_role(self, acting: str, account_id: str, role: str) -> dict[str, Any]:
        variables = {"id": account_id, "role": role, "acting": acting}
        data = await self._graphql(CHANGE_STAFF_ROLE, variables)
        return self._answer(data["changeStaffRole"])

    async def inbox(self, limit: int = 100) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = (await self._inbox_call(INBOX, {"limit": limit}))["inbox"]
        return items

    async def ack(self, up_to: int) -> int:
        return int((await self._inbox_call(ACK, {"upTo": up_to}))["ackInbox"])

    async def _inbox_call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The inbox with the node's usual token, or, when the hub says the shop is
        suspended, with ``node:inbox``: a suspended shop's node still receives the command
        that ends its staff's sessions (and nothing else)."""
        try:
            return await self._graphql(query, variables)
        except ShopSuspended:
            pass
        except TokenRefused:
            # A token of before a suspension is refused at once: ask again, once, to learn why.
            try:
                return await self._graphql(query, variables)
            except ShopSuspended:
                pass
        return await self._graphql(query, variables, Scope.NODE_INBOX)

    async def ingest(
        self, events: list[dict[str, Any]], backlog: dict[str, int] | None = None
    ) -> dict[str, Any]:
        data = await self._graphql(INGEST, {"events": events, "backlog": backlog})
        return self._answer(data["ingestEvents"])

    async def relay_message(self, message: dict[str, str]) -> dict[str, Any]:
        """Ask the hub to send one message on the mall's account (``key``, ``kind``,
        ``medium``, ``line``, ``to``, ``text``): MessageRelayed or MessageNotRelayed."""
        answer: dict[str, Any] = (await self._graphql(RELAY, message))["relayMessage"]
        if answer["__typename"] not in ("MessageRelayed", "MessageNotRelayed"):
            raise HubRefused.of(answer)
        return answer

    async def relayed_statuses(self, provider_ids: list[str]) -> list[dict[str, Any]]:
        """What the provider last said of this shop's relayed SMS among ``provider_ids``."""
        data = await self._graphql(RELAYED_STATUSES, {"ids": provider_ids})
        found: list[dict[str, Any]] = data["relayedMessageStatuses"]
        return found
