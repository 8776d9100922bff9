"""The shopper's redemption PIN: argon2id-hashed (the hasher staff passwords use, off the
event loop), a lock that doubles on each further wrong PIN until the right one."""

from __future__ import annotations

import datetime as dt
import itertools
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import (
    RedemptionPin,
)
from hub.domain.problems import ProblemCode, Refusal
from hub.services import passwords
from hub.services.grants.common import _PIN, PIN_ATTEMPTS, PIN_LOCK, PIN_LOCK_MAX, GrantError
from mallnet.db import utcnow
from mallnet.digits import normalize_digits

log = logging.getLogger("hub.services.grants")  # one logger for the package


def _checked_pin(pin: str, field: str) -> str:
    pin = normalize_digits(pin.strip())
    if not _PIN.fullmatch(pin):
        raise GrantError(ProblemCode.INVALID_INPUT, "a PIN of 4 to 6 digits", field)
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    if len(steps) == 1 and steps <= {-1, 0, 1}:
        raise GrantError(
            ProblemCode.INVALID_INPUT, "too easy to guess (one digit, or a straight run)", field
        )
    return pin


async def _hash_pin(pin: str) -> str:
    return await passwords.hash_async(pin)


async def _pin_matches(stored: str, pin: str) -> bool:
    return (await passwords.verify(stored, pin)).matches


# 15 minutes doubled this often passes a day: the lock stops growing there.
_PIN_DOUBLINGS = (PIN_LOCK_MAX // PIN_LOCK).bit_length()


async def _verify_pin(row: RedemptionPin, pin: str, field: str, now: dt.datetime) -> Refusal | None:
    """None when ``pin`` is right; a wrong one is counted, returned as a refusal so the
    count is committed. The count runs on until the right PIN (a lock running out does not
    start it over): the fifth wrong PIN locks grants for ``PIN_LOCK``, and each further one
    twice as long as the last, at most ``PIN_LOCK_MAX`` — with a stolen token, about a
    dozen guesses the first day and one a day after."""
    if row.locked_until is not None and row.locked_until > now:
        raise GrantError(
            ProblemCode.TOO_MANY_ATTEMPTS,
            f"too many wrong PINs; try again after {row.locked_until.isoformat()}",
            field,
        )
    if await _pin_matches(row.pin_hash, normalize_digits(pin.strip())):
        row.failures, row.locked_until = 0, None
        return None
    row.failures += 1
    if row.failures >= PIN_ATTEMPTS:
        doublings = min(row.failures - PIN_ATTEMPTS, _PIN_DOUBLINGS)
        lock = min(PIN_LOCK * 2**doublings, PIN_LOCK_MAX)
        row.locked_until = now + lock
        minutes = int(lock.total_seconds() // 60)
        return Refusal(
            GrantError(
                ProblemCode.TOO_MANY_ATTEMPTS,
                f"too many wrong PINs; try again in {minutes} minutes",
                field,
            )
        )
    left = PIN_ATTEMPTS - row.failures
    return Refusal(GrantError(ProblemCode.PIN_INVALID, f"wrong PIN; {left} tries left", field))


async def set_pin(
    session: AsyncSession,
    shopper: str,
    pin: str,
    current_pin: str | None = None,
    now: dt.datetime | None = None,
) -> Refusal | None:
    """Set the shopper's redemption PIN (the first time), or change it with the current one."""
    now = now or utcnow()
    new = _checked_pin(pin, "pin")
    row = await session.get(RedemptionPin, shopper, with_for_update=True)
    if row is None:
        session.add(
            RedemptionPin(
                pseudonym=shopper, pin_hash=await _hash_pin(new), failures=0, updated_at=now
            )
        )
        await session.flush()
        return None
    if current_pin is None:
        raise GrantError(
            ProblemCode.INVALID_INPUT, "give the current PIN to change it", "currentPin"
        )
    refused = await _verify_pin(row, current_pin, "currentPin", now)
    if refused is not None:
        return refused
    row.pin_hash, row.updated_at = await _hash_pin(new), now
    await session.flush()
    return None


async def has_pin(session: AsyncSession, shopper: str) -> bool:
    return await session.get(RedemptionPin, shopper) is not None
