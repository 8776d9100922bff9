"""Lotteries run by mall management among the shoppers of the shops that accept them.

Tickets come from the purchase events the shops relay (once per purchase; a refund before
the draw takes them back): one ticket per ``rial_per_ticket`` spent at participating shops,
``bonus_per_shop`` more for every participating shop visited, at most ``max_per_shopper``.
The draw is provably fair (``hub.domain.draw``): the seed's SHA-256 is published when the lottery
is created; at the draw the ticket list is frozen and published with its digest, the seed
is revealed and mixed with the public value management entered beforehand, and anyone can
re-run it (``mallnet lottery verify``).

What is published names each shopper by an **entrant id**, random and per lottery, made
when her first purchase enters it and kept at the hub (``lottery_entrants``), never her
pseudonym: every node holds the network key, and every Iranian mobile can be hashed, so a
pseudonym in a public list would tell any shop who shops elsewhere and roughly how much.
Only she sees her entrant id (in the app); only the hub maps it back (to tell a winner).

One module per job: ``setup`` (create, invitations, the public value), ``tickets``,
``drawing`` and ``prizes``.
"""

from hub.services.lotteries.drawing import (
    MAX_TICKET_PAGE,
    Message,
    begin_draw,
    finish_draw,
    frozen_list,
    listed_by_pseudonym,
    notify_winners,
    prize_of,
    progress,
    run_draw,
    ticket_page,
    winners_wanted,
)
from hub.services.lotteries.prizes import claim_prize, claims, claims_of_many
from hub.services.lotteries.setup import (
    LotteryError,
    LotteryInput,
    Prize,
    TicketRules,
    create,
    get,
    listing,
    respond,
    set_public_value,
    shops_of,
    shops_of_many,
)
from hub.services.lotteries.tickets import (
    Entered,
    enter_purchase,
    entrant_standings,
    refund_purchase,
    standings,
    tickets_for,
    tickets_of,
)

__all__ = [
    "MAX_TICKET_PAGE",
    "Entered",
    "LotteryError",
    "LotteryInput",
    "Message",
    "Prize",
    "TicketRules",
    "begin_draw",
    "claim_prize",
    "claims",
    "claims_of_many",
    "create",
    "enter_purchase",
    "entrant_standings",
    "finish_draw",
    "frozen_list",
    "get",
    "listed_by_pseudonym",
    "listing",
    "notify_winners",
    "prize_of",
    "progress",
    "refund_purchase",
    "respond",
    "run_draw",
    "set_public_value",
    "shops_of",
    "shops_of_many",
    "standings",
    "ticket_page",
    "tickets_for",
    "tickets_of",
    "winners_wanted",
]
