"""The shop's staff, managed from its own dashboard: accounts live at the hub (people sign
in there), so the node asks the hub with its own client, naming the manager who asks; the
hub acts on this shop's staff only, for a manager it knows (``hub.services.staff``).

Disabling someone, resetting their password or changing their role ends their sessions:
at the hub at once, and here when the hub's command arrives in this node's inbox."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry

from mallnet.authz import guard_fields, requires
from mallnet.gql_limits import page_size
from shop_node.api.access import MANAGE, actor
from shop_node.api.partnerships import HubAnswer, ask


@strawberry.enum(description="What a staff member may do at this shop.")
class StaffRole(Enum):
    MANAGER = "MANAGER"
    OPERATOR = "OPERATOR"
    AUDITOR = "AUDITOR"


@strawberry.type(description="A person of this shop's staff, as the hub knows them.")
class StaffAccount:
    id: strawberry.ID
    username: str
    role: str = strawberry.field(description="MANAGER, OPERATOR or AUDITOR.")
    created_at: dt.datetime
    disabled_at: dt.datetime | None
    active: bool

    @classmethod
    def of(cls, data: dict[str, Any]) -> StaffAccount:
        return cls(
            id=strawberry.ID(str(data["id"])),
            username=data["username"],
            role=data["role"],
            created_at=dt.datetime.fromisoformat(data["createdAt"]),
            disabled_at=(
                None
                if data["disabledAt"] is None
                else dt.datetime.fromisoformat(data["disabledAt"])
            ),
            active=bool(data["active"]),
        )


@strawberry.type(description="This shop's staff, by username, a page at a time.")
class StaffAccountList:
    items: list[StaffAccount]
    has_more: bool = strawberry.field(
        description="More follow: ask again with after = the last one's username."
    )


@strawberry.type(description="A password was reset: the person's sessions have ended.")
class StaffPasswordReset:
    account: StaffAccount
    generated_password: str | None = strawberry.field(
        description="The password the hub chose when none was given: shown this once only."
    )


@strawberry.input
class NewStaffInput:
    username: str
    password: str = strawberry.field(description="10-128 characters.")
    role: StaffRole


for _type in (StaffAccount, StaffAccountList, StaffPasswordReset):
    guard_fields(_type, *MANAGE)

StaffListResult = Annotated[StaffAccountList | HubAnswer, strawberry.union("StaffListResult")]
StaffResult = Annotated[StaffAccount | HubAnswer, strawberry.union("StaffResult")]
StaffResetResult = Annotated[
    StaffPasswordReset | HubAnswer, strawberry.union("StaffPasswordResetResult")
]


def _account(answer: Any) -> StaffAccount | HubAnswer:
    return answer if isinstance(answer, HubAnswer) else StaffAccount.of(answer)


@strawberry.type
class StaffQuery:
    @strawberry.field(extensions=requires(*MANAGE), description="This shop's staff.")
    async def staff_accounts(
        self,
        info: strawberry.Info,
        first: int = 50,
        after: Annotated[
            str | None, strawberry.argument(description="The last username of the page before.")
        ] = None,
    ) -> StaffListResult:
        acting = actor(info)
        size = page_size(first, 100)
        answer = await ask(info, lambda hub: hub.staff_accounts(acting, size, after))
        if isinstance(answer, HubAnswer):
            return answer
        items = [StaffAccount.of(a) for a in answer["items"]]
        return StaffAccountList(items=items, has_more=answer["hasMore"])


@strawberry.type
class StaffMutation:
    @strawberry.mutation(extensions=requires(*MANAGE), description="Add a staff member.")
    async def create_staff_account(
        self, info: strawberry.Info, input: NewStaffInput
    ) -> StaffResult:
        acting = actor(info)
        return _account(
            await ask(
                info,
                lambda hub: hub.create_staff(
                    acting, input.username, input.password, input.role.value
                ),
            )
        )

    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Disable a staff member: their sign-ins and sessions end.",
    )
    async def disable_staff_account(self, info: strawberry.Info, id: strawberry.ID) -> StaffResult:
        acting = actor(info)
        return _account(await ask(info, lambda hub: hub.disable_staff(acting, str(id))))

    @strawberry.mutation(
        extensions=requires(*MANAGE), description="Let a disabled staff member sign in again."
    )
    async def enable_staff_account(self, info: strawberry.Info, id: strawberry.ID) -> StaffResult:
        acting = actor(info)
        return _account(await ask(info, lambda hub: hub.enable_staff(acting, str(id))))

    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Set a staff member's new password (or let the hub choose one, shown "
        "once); their sessions end.",
    )
    async def reset_staff_password(
        self, info: strawberry.Info, id: strawberry.ID, new_password: str | None = None
    ) -> StaffResetResult:
        acting = actor(info)
        answer = await ask(
            info, lambda hub: hub.reset_staff_password(acting, str(id), new_password)
        )
        if isinstance(answer, HubAnswer):
            return answer
        return StaffPasswordReset(
            account=StaffAccount.of(answer["account"]),
            generated_password=answer["generatedPassword"],
        )

    @strawberry.mutation(
        extensions=requires(*MANAGE),
        description="Give a staff member another role; their sessions end.",
    )
    async def change_staff_role(
        self, info: strawberry.Info, id: strawberry.ID, role: StaffRole
    ) -> StaffResult:
        acting = actor(info)
        return _account(
            await ask(info, lambda hub: hub.change_staff_role(acting, str(id), role.value))
        )
