"""Settlement at the hub: periods, closing them, statements and the audit.

The hub feeds the pure engine (``settlement``) with what the network-value ledger recorded:
every capture and refund line (``value_redemptions``) and every expiry of value. A period
closes in one database transaction — its captures are settled (each exactly once: the
primary key of ``settlement_items``), its journal, positions and payment instructions are
written, the period is frozen and the next one opened — so a crash mid-close leaves nothing
behind, and closing a closed period again answers with what it produced the first time.
A capture that commits after a period closed is settled by the next one.

One module per job: ``calendar`` (the open period, cutting it), ``inputs`` (what the
engine reads from the value ledger), ``closing``, ``corrections``, ``statements`` (a
shop's statement, the journal, positions, instructions) and ``audit``. The policy and the
shops' prepayments are their own services (``settlement_policy``, ``prepaid``).
"""

from hub.services.settlement.audit import verify
from hub.services.settlement.calendar import cut, day_start, get_period, open_period, periods
from hub.services.settlement.closing import Closed, close, close_due, digest_of
from hub.services.settlement.corrections import CorrectionInput, post_correction
from hub.services.settlement.statements import instructions, journal, positions, statement

__all__ = [
    "Closed",
    "CorrectionInput",
    "close",
    "close_due",
    "cut",
    "day_start",
    "digest_of",
    "get_period",
    "instructions",
    "journal",
    "open_period",
    "periods",
    "positions",
    "post_correction",
    "statement",
    "verify",
]
