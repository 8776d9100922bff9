"""The hub's problem codes are one enum, the same in its code, in its GraphQL schema and in
the node's client; each code the API answers with has one typed problem; and the node's
client reads a hub problem as that enum, never by parsing a message."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import pytest

from federation.client import HubConnection, HubRefused, HubUnavailable
from federation.problems import HubProblemCode
from graphql import GraphQLEnumType, GraphQLInterfaceType, GraphQLObjectType, GraphQLUnionType
from hub.api.problems import PROBLEM_TYPES
from hub.domain.problems import HubError, ProblemCode
from mallnet.cli.sdl import schemas
from shop_node.domain.errors import HoldOfAnotherShopper, NetworkValueRefused
from shop_node.services.network import capture_at

HUB = schemas()["hub.graphql"]._schema
HUB_API = Path(__file__).resolve().parents[2] / "hub" / "api"


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _problem_unions() -> dict[str, set[str]]:
    """Each mutation (and query) whose result is a union: the problem types it lists."""
    found = {}
    for root in (HUB.query_type, HUB.mutation_type):
        assert root is not None
        for name, field in root.fields.items():
            result = getattr(field.type, "of_type", field.type)
            if isinstance(result, GraphQLUnionType):
                found[name] = {t.name for t in result.types if t.interfaces}
    return found


def test_the_schema_enum_the_hub_enum_and_the_clients_enum_name_the_same_codes() -> None:
    schema_enum = HUB.get_type("ProblemCode")
    assert isinstance(schema_enum, GraphQLEnumType)
    assert list(schema_enum.values) == [code.name for code in ProblemCode]
    # A node reads the code as the schema sends it: the enum value's name.
    assert [code.value for code in HubProblemCode] == [code.name for code in ProblemCode]


def test_the_codes_keep_the_strings_clients_knew() -> None:
    assert {code.name for code in ProblemCode if code.value != code.name} == {"INVALID_TICKETS"}
    assert ProblemCode.INVALID_TICKETS == "invalid_tickets"
    assert HubError("SHOP_EXISTS", "taken").code is ProblemCode.SHOP_EXISTS  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'NO_SUCH_CODE' is not a valid ProblemCode"):
        HubError("NO_SUCH_CODE", "what?")  # type: ignore[arg-type]


def test_each_code_the_api_answers_with_has_one_typed_problem() -> None:
    interface = HUB.get_type("HubProblem")
    assert isinstance(interface, GraphQLInterfaceType)
    assert list(interface.fields) == ["code", "message", "field"]
    for code, kind in PROBLEM_TYPES.items():
        assert kind.CODE is code
        assert kind.__name__ == _pascal(code.name)
        graphql_type = HUB.get_type(kind.__name__)
        assert isinstance(graphql_type, GraphQLObjectType)
        assert [i.name for i in graphql_type.interfaces] == ["HubProblem"]
    listed = set().union(*_problem_unions().values())
    # No problem type that no result lists, and no result listing an unknown one.
    assert listed == {kind.__name__ for kind in PROBLEM_TYPES.values()}


def test_every_result_union_lists_its_problems() -> None:
    unions = _problem_unions()
    assert unions["holdNetworkValue"] == {
        "InvalidInput",
        "IdempotencyConflict",
        "InsufficientValue",
        "GrantRequired",
        "GrantInvalid",
        "GrantUsed",
        "GrantExpired",
        "GrantExceeded",
        "TooManyAttempts",
    }
    assert unions["captureNetworkHold"] == {
        "InvalidInput",
        "NotFound",
        "HoldMismatch",
        "ShopperMismatch",
        "HoldClosed",
        "HoldExpired",
    }
    assert unions["issueRedemptionGrant"] == {
        "InvalidInput",
        "PinRequired",
        "PinInvalid",
        "TooManyAttempts",
        "RateLimited",
    }
    assert unions["setRedemptionPin"] == {"InvalidInput", "PinInvalid", "TooManyAttempts"}
    assert unions["sendRedemptionCode"] == {
        "InvalidInput",
        "PhoneMismatch",
        "RateLimited",
        "SmsNotSent",
    }
    assert unions["voidNetworkHold"] == {"NotFound", "HoldClosed"}
    assert unions["ingestEvents"] == {"NotANode", "InvalidBatch"}
    assert unions["registerShop"] == {"InvalidInput", "ShopExists"}
    assert unions["setConsent"] == {"InvalidInput", "NotAMember"}
    assert unions["settlementStatement"] == {"Forbidden", "InvalidInput", "NotFound", "PeriodOpen"}
    assert all(unions.values()), unions


def test_the_client_reads_a_hub_problem_as_the_enum() -> None:
    problem = {"__typename": "HoldExpired", "code": "HOLD_EXPIRED", "message": "ask again"}
    with pytest.raises(HubRefused, match=r"^HOLD_EXPIRED: ask again$") as refused:
        HubConnection._answer(problem)
    assert refused.value.code is HubProblemCode.HOLD_EXPIRED
    assert refused.value.message == "ask again"
    hold = {"__typename": "NetworkHold", "id": "h-1", "status": "open"}
    assert HubConnection._answer(hold) == hold


def test_a_code_the_node_does_not_know_is_no_answer() -> None:
    newer = {"__typename": "Overbooked", "code": "OVERBOOKED", "message": "later"}
    with pytest.raises(HubUnavailable, match=r"does not know \(OVERBOOKED: later\)"):
        HubConnection._answer(newer)


class _RefusingHub:
    async def capture(self, *_args: Any) -> dict[str, Any]:
        raise HubRefused(HubProblemCode.HOLD_EXPIRED, "this hold has expired; ask for a new one")


class _AnsweringHub:
    """A hub that captures whatever it is asked, and says whose hold it was."""

    def __init__(self, holder: str) -> None:
        self.holder = holder

    async def capture(self, *_args: Any) -> dict[str, Any]:
        return {"pseudonym": self.holder, "capturedRial": "5000"}


async def test_a_refused_capture_carries_the_hubs_code() -> None:
    capture = capture_at(cast(HubConnection, _RefusingHub()))
    with pytest.raises(NetworkValueRefused, match=re.escape("HOLD_EXPIRED: this hold")) as refused:
        await capture("hold-1", None, "r-1", 50_000, "a" * 64)
    assert refused.value.hub_code is HubProblemCode.HOLD_EXPIRED


async def test_the_node_refuses_a_capture_answer_that_names_another_shopper() -> None:
    """The node's own check: a hub that did not compare still names the hold's shopper,
    and the purchase of another shopper is not recorded with it."""
    capture = capture_at(cast(HubConnection, _AnsweringHub("b" * 64)))
    with pytest.raises(HoldOfAnotherShopper, match="another shopper's") as refused:
        await capture("hold-1", None, "r-1", 50_000, "a" * 64)
    assert refused.value.code == "HOLD_OF_ANOTHER_SHOPPER"
    assert refused.value.hub_code is HubProblemCode.SHOPPER_MISMATCH
    assert (
        await capture_at(cast(HubConnection, _AnsweringHub("a" * 64)))(
            "hold-1", None, "r-1", 50_000, "a" * 64
        )
        == 5_000
    )


def test_hub_resolvers_write_through_the_one_idiom() -> None:
    """A resolver that opened its own transaction would not be retried on a race, nor turn
    its failures into problems: only ``hub/api/common.py`` opens one."""
    opened = {
        f"{path.name}:{number}"
        for path in sorted(HUB_API.glob("*.py"))
        if path.name != "common.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ".begin()" in line or "transaction(" in line
    }
    assert opened == set()
