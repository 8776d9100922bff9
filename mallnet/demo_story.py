"""The demo's network-value story, told through the real APIs once the network runs.

Ali earned pooled points at the bookshop and targeted credit at the shoe shop (valid at
the café); the relay carries those purchases to the hub, which issues the value. At the
café the till then asks what Ali can spend, holds it and records a purchase paid with it
— the capture — exactly as a POS would. Re-running the demo replays the same receipt and
hold: nothing is spent twice.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from mallnet.sdl import operations

SHOPPER = "09351112233"  # Ali
RECEIPT = "CS-3100"
LINES = [{"productGroup": "coffee", "amountRial": "950000"}]


def _call(client: httpx.Client, url: str, token: str, name: str, **variables: Any) -> Any:
    response = client.post(
        f"{url}/graphql",
        json={"query": operations("node"), "operationName": name, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"][0]["message"])
    return body["data"]


def spend_at_cafe(cafe_url: str, pos_token: str, timeout_s: float = 120.0) -> str:
    """Wait until Ali's network value reaches the hub, then spend it at the café."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=10) as client:
        while True:
            value = _call(client, cafe_url, pos_token, "NetworkValue", phone=SHOPPER)
            found = value["networkValue"]
            if found["__typename"] == "NetworkValue" and int(found["worthRial"]) > 0:
                break
            if time.monotonic() > deadline:
                return f"network value story skipped: nothing spendable yet ({found})"
            time.sleep(1)
        total = 950_000
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
            f" of a {total // 10:,} toman bill at the café with pooled points and credit"
            f" (hold {hold['id']})"
        )
