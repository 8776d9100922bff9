"""What a face's shell shows of who is signed in: a shopper's phone masked, a person's
account name; never a token, never a pseudonym."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.models import Shopper, User
from hub.services.staff import parse_subject
from hub.web.bff.store import Sessions
from mallnet.phone import mask


async def display_name(sessions: Sessions, subject: str) -> str | None:
    kind, _, rest = subject.partition(":")
    async with sessions() as session:
        if kind == "shopper":
            phone = await session.scalar(select(Shopper.phone).where(Shopper.pseudonym == rest))
            return None if phone is None else mask(phone)
        parsed = parse_subject(subject)
        if parsed is None:
            return None
        username: str | None = await session.scalar(
            select(User.username).where(User.id == parsed[1])
        )
        return username
