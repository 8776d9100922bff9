"""The demo's network-value story, told through the real APIs once the network runs.

Ali earned pooled points at the bookshop and targeted credit at the shoe shop (valid at
the café); the relay carries those purchases to the hub, which issues the value. At the
café the till learns only that Ali has network value; Ali has no app, so the till asks the
hub to text him a one-time code (his redemption grant, capped at the bill), Ali reads it
out, and the till holds his value with it and records his purchase paid with it — the
capture — exactly as a POS would. Re-running the demo replays the same receipt and hold:
nothing is spent twice.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx

from mallnet.cli.sdl import operation_document

SHOPPER = "09351112233"  # Ali
SHOPPER_E164 = "+989351112233"
RECEIPT = "CS-3100"
LINES = [{"productGroup": "coffee", "amountRial": "950000"}]


def _call(client: httpx.Client, url: str, token: str, name: str, **variables: Any) -> Any:
    response = client.post(
        f"{url}/graphql",
        json={
            "query": operation_document("node", name),
            "operationName": name,
            "variables": variables,
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"][0]["message"])
    return body["data"]


def _texted_code(sms_outbox: Path, after: int) -> str | None:
    """The redemption code the hub texted Ali, if it is in the development SMS outbox past
    its first ``after`` lines (what Ali reads out at the till)."""
    if not sms_outbox.exists():
        return None
    for line in sms_outbox.read_text(encoding="utf-8").splitlines()[after:]:
        record = json.loads(line)
        if record["to"] == SHOPPER_E164 and record["kind"] == "redemption":
            return re.findall(r"(\d{8})", record["text"])[-1]
    return None


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def start_till_session(client: httpx.Client, node_url: str, token: str) -> str:
    started = client.post(f"{node_url}/session", headers={"Authorization": f"Bearer {token}"})
    started.raise_for_status()
    return str(started.json()["sessionToken"])


def _hold_without_grant(client: httpx.Client, url: str, token: str, total: int) -> str | None:
    """The attack issue 14 closed: a till holding Ali's value without his grant. Returns
    the refusal's code, or None if the hold was made."""
    attack = _call(
        client,
        url,
        token,
        "HoldNetworkValue",
        input={
            "phone": SHOPPER,
            "amountRial": str(total),
            "receiptId": f"{RECEIPT}-NO-GRANT",
            "partial": True,
        },
    )["holdNetworkValue"]
    if attack["__typename"] == "NetworkHold":
        return None
    return str(attack.get("code") or attack.get("problem") or attack["__typename"])


def spend_at_cafe(cafe_url: str, pos_token: str, sms_outbox: Path, timeout_s: float = 120.0) -> str:
    """Wait until Ali's network value reaches the hub, then spend it at the café with the
    code the hub texts him."""
    deadline = time.monotonic() + timeout_s
    total = 950_000
    with httpx.Client(timeout=10) as client:
        # The till trades its sign-in token for a node session once: the node alone then
        # checks it for a working day, hub outage or not.
        pos_token = start_till_session(client, cafe_url, pos_token)
        while True:
            value = _call(client, cafe_url, pos_token, "NetworkValue", phone=SHOPPER)
            found = value["networkValue"]
            if found["__typename"] == "NetworkValue" and found["hasValue"]:
                break
            if time.monotonic() > deadline:
                return f"network value story skipped: nothing spendable yet ({found})"
            time.sleep(1)
        refused = _hold_without_grant(client, cafe_url, pos_token, total)
        if refused is None:
            return "network value story: a hold WITHOUT Ali's grant was accepted"
        before = _lines(sms_outbox)
        sent = _call(
            client,
            cafe_url,
            pos_token,
            "RequestNetworkValueCode",
            phone=SHOPPER,
            maxRial=str(total),
        )["requestNetworkValueCode"]
        if sent["__typename"] != "RedemptionCodeSent":
            return f"network value story: no code was texted ({sent})"
        code = _texted_code(sms_outbox, before)
        if code is None:
            return f"network value story: the texted code is not in {sms_outbox}"
        hold = _call(
            client,
            cafe_url,
            pos_token,
            "HoldNetworkValue",
            input={
                "phone": SHOPPER,
                "amountRial": str(total),
                "receiptId": RECEIPT,
                "partial": True,
                "grantCode": code,
            },
        )["holdNetworkValue"]
        if hold["__typename"] != "NetworkHold":
            return f"network value story: the hold was refused ({hold})"
        paid = _call(
            client,
            cafe_url,
            pos_token,
            "RecordPurchase",
            input={
                "receiptId": RECEIPT,
                "totalRial": str(total),
                "phone": SHOPPER,
                "lines": LINES,
                "networkHoldId": hold["id"],
            },
        )["recordPurchase"]
        if paid["__typename"] != "PurchaseRecorded":
            return f"network value story: the purchase was refused ({paid})"
        return (
            f"network value: Ali paid {int(paid['purchase']['networkPaidRial']) // 10:,} toman"
            f" of a {total // 10:,} toman bill at the café with pooled points and credit,"
            f" after reading out the code the hub texted him: {code}"
            f" (his redemption grant; hold {hold['id']}); the same hold without his grant"
            f" was refused ({refused})"
        )


CLOSE = "mutation { closeSettlementPeriod { __typename ... on SettlementPeriod { id } } }"
WAITING = "{ captureReconciliation { waiting } }"
PERIODS = """{ settlementPeriods(first: 5) { id label status captures
  instructions { party direction amountRial } } }"""


def _mall_token(client: httpx.Client, hub_url: str, client_id: str, secret: str) -> str:
    answer = client.post(
        f"{hub_url}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "mall:settlement"},
        auth=(client_id, secret),
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _hub_query(client: httpx.Client, hub_url: str, token: str, query: str) -> Any:
    body = client.post(
        f"{hub_url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    ).json()
    if body.get("errors"):
        raise RuntimeError(body["errors"][0]["message"])
    return body["data"]


def close_first_day(
    hub_url: str, console: tuple[str, str], node_urls: dict[str, str], timeout_s: float = 120
) -> str:
    """Mall finance closes the demo's first settlement period (once: a later demo run shows
    the period closed before) and the worker settles it; each shop then finds its
    statement on its own node."""
    with httpx.Client(timeout=10) as client:
        token = _mall_token(client, hub_url, *console)
        periods = _hub_query(client, hub_url, token, PERIODS)["settlementPeriods"]
        closed = [p for p in periods if p["status"] == "closed"]
        if not closed:
            # A capture is settled once the café's purchase event (relayed within seconds)
            # has matched it: until then it would wait for the next period.
            deadline = time.monotonic() + timeout_s
            while _hub_query(client, hub_url, token, WAITING)["captureReconciliation"]["waiting"]:
                if time.monotonic() > deadline:
                    return "settlement story: the café's purchase has not reached the hub yet"
                time.sleep(1)
            cut = _hub_query(client, hub_url, token, CLOSE)["closeSettlementPeriod"]
            if cut["__typename"] != "SettlementPeriod":
                return f"settlement story: the close was refused ({cut})"
            deadline = time.monotonic() + timeout_s
            while not closed:
                if time.monotonic() > deadline:
                    return f"settlement story: period {cut['id']} not closed by the worker yet"
                time.sleep(1)
                periods = _hub_query(client, hub_url, token, PERIODS)["settlementPeriods"]
                closed = [p for p in periods if p["id"] == cut["id"] and p["status"] == "closed"]
    period = closed[0]
    moves = ", ".join(
        f"{i['party']} {'pays' if i['direction'] == 'to_fund' else 'receives'}"
        f" {int(i['amountRial']) // 10:,} toman"
        for i in period["instructions"]
    )
    where = ", ".join(
        f"{url}/settlement/statements/{period['id']}.pdf" for url in node_urls.values()
    )
    return (
        f"settlement: period {period['id']} ({period['label']}) closed, "
        f"{period['captures']} captures: {moves or 'nothing to move'}; statements: {where}"
    )
