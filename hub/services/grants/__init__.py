"""Redemption grants: a shopper's network value is held only with that shopper's say.

A grant is a one-time code bound to one shopper, single use, short-lived and optionally
capped (at most ``max_rial`` may be held with it). It comes two ways:

* **in the app**, after the shopper's redemption PIN: eight digits, and a QR payload
  (``mallnet-grant:<grant id>:<digits>``) the till scans instead of typing; any shop, or
  the one shop she names (the app then follows it by id to show it paid);
* **by SMS**, when a shop's till asks for one with the shopper's phone (the hub checks the
  phone hashes to the pseudonym the node named): eight digits texted to that phone, for
  that shop only — and only if she has network value spendable there; otherwise nothing
  is texted, but the till is answered (and limited) exactly the same, so the answer does
  not tell which.

Codes are kept only as hashes. A wrong code at shop X costs X's own budget
(``SHOP_FAILURES`` wrong codes per ``SHOP_FAILURE_WINDOW`` across all of X's tries; past
it, X's code attempts and texts are refused for ``SHOP_LOCK``, logged at WARNING and
counted for mall management) and a try of each live code texted *for X*
(``GRANT_ATTEMPTS`` each) — never of her app grant or another shop's code, so a hostile
shop cannot burn the grants she means for another. Such a refusal is *returned*
(``Refusal``) so its transaction commits the count. The worst case for one dishonest
shop: 20 wrong codes an hour (480 a day), each against at most two live eight-digit codes
of the shopper it names (her app grant and its own texted one): at most 2 x 10^-8 a guess,
about 1 x 10^-5 a day, and at most ``SMS_PER_SHOP_DAY`` texts a day at the hub's cost.
The hold (``hold_with_grant``) verifies the grant, holds with ``hub.services.value`` and
marks the grant used by that hold; the POS's natural retry of the same hold (same shop and
idempotency key, same grant) is answered as a replay.

``has_value_here`` answers a shop's yes-or-no question only for its own members (anyone
else: no), at most ``LOOKUPS_PER_SHOP`` per ``LOOKUP_WINDOW``. A wrong PIN counts until
the right one: the ``PIN_ATTEMPTS``-th locks grants for ``PIN_LOCK``, and each further one
locks twice as long as the last (at most ``PIN_LOCK_MAX``).

Lock order: grant rows (ascending id), then the shop's guard row, then the hold row, then
lots (the order ``value.hold`` keeps). One module per job: ``common`` (limits, types),
``guards`` (each shop's budgets), ``pins`` and ``codes`` (issued, texted, spent), ``status``
(where the shopper's own grant stands).
"""

from hub.services.grants.codes import (
    deliver,
    grant_for_tools,
    hold_with_grant,
    issue_app_grant,
    text_code,
)
from hub.services.grants.common import (
    APP_CODE_DIGITS,
    APP_GRANT_TTL,
    GRANT_ATTEMPTS,
    LOOKUP_WINDOW,
    LOOKUPS_PER_SHOP,
    PIN_ATTEMPTS,
    PIN_LOCK,
    PIN_LOCK_MAX,
    SHOP_FAILURE_WINDOW,
    SHOP_FAILURES,
    SHOP_LOCK,
    SMS_CODE_DIGITS,
    SMS_GRANT_TTL,
    SMS_PER_SHOP,
    SMS_PER_SHOP_DAY,
    SMS_PER_SHOPPER,
    SMS_PER_SHOPPER_AT_SHOP,
    GrantError,
    IssuedGrant,
    TextedCode,
)
from hub.services.grants.guards import code_failures, has_value_here
from hub.services.grants.pins import has_pin, set_pin
from hub.services.grants.status import GrantStatus, grant_status

__all__ = [
    "APP_CODE_DIGITS",
    "APP_GRANT_TTL",
    "GRANT_ATTEMPTS",
    "LOOKUPS_PER_SHOP",
    "LOOKUP_WINDOW",
    "PIN_ATTEMPTS",
    "PIN_LOCK",
    "PIN_LOCK_MAX",
    "SHOP_FAILURES",
    "SHOP_FAILURE_WINDOW",
    "SHOP_LOCK",
    "SMS_CODE_DIGITS",
    "SMS_GRANT_TTL",
    "SMS_PER_SHOP",
    "SMS_PER_SHOPPER",
    "SMS_PER_SHOPPER_AT_SHOP",
    "SMS_PER_SHOP_DAY",
    "GrantError",
    "GrantStatus",
    "IssuedGrant",
    "TextedCode",
    "code_failures",
    "deliver",
    "grant_for_tools",
    "grant_status",
    "has_pin",
    "has_value_here",
    "hold_with_grant",
    "issue_app_grant",
    "set_pin",
    "text_code",
]
