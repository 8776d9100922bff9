"""Which scopes the node's operations need, and who is calling."""

from __future__ import annotations

from strawberry.types import Info

from mallnet.auth import Principal
from mallnet.scopes import Scope
from shop_node.services.runtime import NodeRuntime

# Anyone on the shop's staff may read; the POS operates; only managers change the rules.
STAFF = (Scope.SHOP_READ, Scope.SHOP_OPERATE, Scope.SHOP_MANAGE)
OPERATE = (Scope.SHOP_OPERATE, Scope.SHOP_MANAGE)
MANAGE = (Scope.SHOP_MANAGE,)


def runtime(info: Info) -> NodeRuntime:
    value = info.context["state"].runtime
    if value is None:
        raise RuntimeError("the node database is not migrated: run 'mallnet migrate --shop ...'")
    assert isinstance(value, NodeRuntime)
    return value


def actor(info: Info) -> str:
    user = info.context["request"].user
    return user.identity if isinstance(user, Principal) else "anonymous"
