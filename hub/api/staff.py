"""Staff and mall accounts over GraphQL: list, create, disable, enable, reset a password,
change a role, read what was done to an account.

Two kinds of caller reach these fields. Mall management (``mall:admin``) calls them on the
hub directly, for mall users and any shop's staff. A shop manager signs in for their own
node (their token's audience is the node, never the hub), so, as with partnership offers,
the node calls the hub with its own client (``node:federate``) and names the manager in
``actingStaff`` (``staff:<id>``): the hub acts on that shop's staff only, and only while
it knows the named person as an active manager of the shop (``hub.services.staff``).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.common import run
from hub.api.problems import Forbidden, InvalidInput, NotFound, ShopNotFound, UsernameTaken
from hub.domain.problems import ProblemCode
from hub.services import staff
from mallnet.auth import Principal
from mallnet.authz import guard_fields, requires
from mallnet.gql_limits import page_cursor, page_size
from mallnet.scopes import Scope

MANAGERS = (Scope.NODE_FEDERATE, Scope.MALL_ADMIN)
_ACCOUNT_ID = re.compile(r"[1-9][0-9]{0,17}")
ACTING = strawberry.argument(
    description="A node names the shop manager who asks (staff:<id>); mall management omits it."
)
STAFF_PAGE = 50
STAFF_PAGE_MAX = 100


@strawberry.enum(description="What an account may do: shop staff roles, then mall roles.")
class StaffRole(Enum):
    MANAGER = "manager"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    MALL_ADMIN = "mall_admin"
    MALL_MARKETING = "mall_marketing"
    MALL_FINANCE = "mall_finance"


@strawberry.type(description="A person who signs in with a password: shop staff or mall user.")
class StaffAccount:
    id: strawberry.ID
    username: str
    role: StaffRole
    shop: str | None = strawberry.field(description="The shop of staff; null for mall users.")
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    active: bool

    @classmethod
    def of(cls, account: staff.Account) -> StaffAccount:
        return cls(
            id=strawberry.ID(str(account.id)),
            username=account.username,
            role=StaffRole(account.role),
            shop=account.shop,
            created_at=account.created_at,
            disabled_at=account.disabled_at,
            active=account.disabled_at is None,
        )


@strawberry.type(description="Accounts, by username, a page at a time.")
class StaffAccountList:
    items: list[StaffAccount]
    has_more: bool = strawberry.field(
        description="More accounts follow: ask again with after = the last one's username."
    )


@strawberry.type(description="A password was reset: every session of the account has ended.")
class PasswordReset:
    account: StaffAccount
    generated_password: str | None = strawberry.field(
        description="The password the hub chose when none was given: shown this once only."
    )


@strawberry.type(description="One recorded change of an account: what, by whom, when.")
class StaffAccountChange:
    action: str = strawberry.field(
        description="created, disabled, enabled, password_reset or role_changed."
    )
    actor: str = strawberry.field(description="mall:<id>, staff:<id> or a client id.")
    client_id: str
    detail: str | None
    at: dt.datetime


@strawberry.type(description="What was done to an account, newest first.")
class StaffAccountHistory:
    items: list[StaffAccountChange]


@strawberry.input
class CreateStaffAccountInput:
    username: str
    password: str = strawberry.field(description="10-128 characters.")
    role: StaffRole
    shop: str | None = strawberry.field(
        default=None, description="The staff member's shop (a node: its own, the default)."
    )


for _type in (StaffAccount, StaffAccountList, PasswordReset, StaffAccountChange):
    guard_fields(_type, *MANAGERS)
guard_fields(StaffAccountHistory, *MANAGERS)

StaffAccountsResult = Annotated[
    StaffAccountList | Forbidden | ShopNotFound | InvalidInput,
    strawberry.union("StaffAccountsResult"),
]
StaffHistoryResult = Annotated[
    StaffAccountHistory | NotFound | Forbidden | InvalidInput,
    strawberry.union("StaffAccountHistoryResult"),
]
CreateStaffResult = Annotated[
    StaffAccount | InvalidInput | UsernameTaken | Forbidden | ShopNotFound,
    strawberry.union("CreateStaffAccountResult"),
]
StaffAccountResult = Annotated[
    StaffAccount | NotFound | Forbidden | InvalidInput, strawberry.union("StaffAccountResult")
]
ResetPasswordResult = Annotated[
    PasswordReset | NotFound | Forbidden | InvalidInput,
    strawberry.union("ResetStaffPasswordResult"),
]


def actor_of(info: strawberry.Info, acting_staff: str | None) -> staff.Actor:
    """Who asks: the manager a node names (a node:federate token of a shop), or the mall
    user (or client) of a mall:admin token; anyone else is refused."""
    user = info.context["request"].user
    assert isinstance(user, Principal)
    if user.shop is not None and Scope.NODE_FEDERATE in user.scopes:
        if acting_staff is None:
            raise staff.StaffError(
                ProblemCode.FORBIDDEN, "name the shop manager who asks", "actingStaff"
            )
        return staff.Actor(acting_staff, user.client_id, user.shop)
    if acting_staff is not None:
        raise staff.StaffError(
            ProblemCode.INVALID_INPUT, "only a shop's node names the acting staff", "actingStaff"
        )
    if Scope.MALL_ADMIN not in user.scopes:
        # A node:federate token of no shop (a service client) is neither a shop's node nor
        # mall management: it acts on no account.
        raise staff.StaffError(
            ProblemCode.FORBIDDEN, "only mall management or a shop's node manages accounts", None
        )
    return staff.Actor(user.subject, user.client_id)


def _id(value: strawberry.ID) -> int:
    text = str(value)
    if _ACCOUNT_ID.fullmatch(text) is None:  # ASCII digits, as the hub writes ids
        raise staff.StaffError(ProblemCode.NOT_FOUND, f"no account {text!r}", "id")
    return int(text)


@strawberry.type
class StaffQuery:
    @strawberry.field(
        extensions=requires(*MANAGERS),
        description="A shop's staff (a node: its own), or with no shop the mall users.",
    )
    async def staff_accounts(
        self,
        info: strawberry.Info,
        shop: str | None = None,
        acting_staff: Annotated[str | None, ACTING] = None,
        first: int = STAFF_PAGE,
        after: Annotated[
            str | None, strawberry.argument(description="The last username of the page before.")
        ] = None,
    ) -> StaffAccountsResult:
        size = page_size(first, STAFF_PAGE_MAX)
        after = page_cursor(after, staff.USERNAME)

        async def work(session: AsyncSession) -> StaffAccountList:
            acting = actor_of(info, acting_staff)
            found = await staff.list_accounts(session, acting, shop, size, after)
            return StaffAccountList(
                items=[StaffAccount.of(a) for a in found.items], has_more=found.has_more
            )

        return await run(info, work)

    @strawberry.field(
        extensions=requires(*MANAGERS), description="What was done to an account, newest first."
    )
    async def staff_account_history(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        acting_staff: Annotated[str | None, ACTING] = None,
    ) -> StaffHistoryResult:
        async def work(session: AsyncSession) -> StaffAccountHistory:
            changes = await staff.history(session, actor_of(info, acting_staff), _id(id))
            return StaffAccountHistory(
                items=[
                    StaffAccountChange(
                        action=c.action,
                        actor=c.actor,
                        client_id=c.client_id,
                        detail=c.detail,
                        at=c.at,
                    )
                    for c in changes
                ]
            )

        return await run(info, work)


@strawberry.type
class StaffMutation:
    @strawberry.mutation(
        extensions=requires(*MANAGERS),
        description="Create a staff account (a node: for its own shop) or a mall user.",
    )
    async def create_staff_account(
        self,
        info: strawberry.Info,
        input: CreateStaffAccountInput,
        acting_staff: Annotated[str | None, ACTING] = None,
    ) -> CreateStaffResult:
        async def work(session: AsyncSession) -> StaffAccount:
            account = await staff.create_account(
                session,
                actor_of(info, acting_staff),
                input.username,
                input.password,
                input.role.value,
                input.shop,
            )
            return StaffAccount.of(account)

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(*MANAGERS),
        description="Disable an account: its sign-ins, tokens and node sessions end at once.",
    )
    async def disable_staff_account(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        acting_staff: Annotated[str | None, ACTING] = None,
    ) -> StaffAccountResult:
        async def work(session: AsyncSession) -> StaffAccount:
            actor = actor_of(info, acting_staff)
            return StaffAccount.of(await staff.disable(session, actor, _id(id)))

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(*MANAGERS),
        description="Let a disabled account sign in again (its old sessions stay ended).",
    )
    async def enable_staff_account(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        acting_staff: Annotated[str | None, ACTING] = None,
    ) -> StaffAccountResult:
        async def work(session: AsyncSession) -> StaffAccount:
            actor = actor_of(info, acting_staff)
            return StaffAccount.of(await staff.enable(session, actor, _id(id)))

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(*MANAGERS),
        description="Set a new password (or let the hub choose one, shown once); every "
        "session of the account ends.",
    )
    async def reset_staff_password(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        new_password: str | None = None,
        acting_staff: Annotated[str | None, ACTING] = None,
    ) -> ResetPasswordResult:
        async def work(session: AsyncSession) -> PasswordReset:
            actor = actor_of(info, acting_staff)
            account, generated = await staff.reset_password(session, actor, _id(id), new_password)
            return PasswordReset(account=StaffAccount.of(account), generated_password=generated)

        return await run(info, work)

    @strawberry.mutation(
        extensions=requires(*MANAGERS),
        description="Give an account another role of its kind; its sessions end.",
    )
    async def change_staff_role(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        role: StaffRole,
        acting_staff: Annotated[str | None, ACTING] = None,
    ) -> StaffAccountResult:
        async def work(session: AsyncSession) -> StaffAccount:
            actor = actor_of(info, acting_staff)
            return StaffAccount.of(await staff.change_role(session, actor, _id(id), role.value))

        return await run(info, work)
