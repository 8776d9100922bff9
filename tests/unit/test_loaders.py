"""The per-request loader plumbing: one read per batch, one batch at a time on the
request's session, each ended at once; a key without an answer fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from mallnet.loaders import BatchReads, batch_loader


class _Session:
    """Records what the loaders do with it; ``busy`` catches two batches at once."""

    def __init__(self, log: list[str]) -> None:
        self.log = log
        self.busy = False

    async def read(self, name: str, keys: Sequence[int]) -> dict[int, str]:
        assert not self.busy, "two batches ran on the session at once"
        self.busy = True
        await asyncio.sleep(0)  # let the other batch try to run meanwhile
        self.log.append(f"{name} {list(keys)}")
        self.busy = False
        return {k: f"{name}-{k}" for k in keys if k != 404}

    async def close(self) -> None:
        self.log.append("close")


def _reads(log: list[str]) -> tuple[BatchReads, list[_Session]]:
    made: list[_Session] = []

    def factory() -> _Session:
        made.append(_Session(log))
        return made[-1]

    return BatchReads(factory), made  # type: ignore[arg-type]


def _reader(name: str) -> Any:
    async def read(session: Any, keys: Sequence[int]) -> Mapping[int, str]:
        answer: dict[int, str] = await session.read(name, keys)
        return answer

    return read


async def test_each_loader_reads_its_keys_once_in_one_short_batch() -> None:
    log: list[str] = []
    reads, made = _reads(log)
    balances = batch_loader(reads, _reader("balance"), "balance")
    companies = batch_loader(reads, _reader("company"), "company")

    got = await asyncio.gather(
        *(balances.load(k) for k in (1, 2, 1, 3)), *(companies.load(k) for k in (7, 7))
    )

    assert got == ["balance-1", "balance-2", "balance-1", "balance-3", "company-7", "company-7"]
    # A repeated key is read once; each batch ends its transaction before the next begins.
    assert log == ["balance [1, 2, 3]", "close", "company [7]", "close"]
    assert len(made) == 1  # one session for the request


async def test_a_key_without_an_answer_fails_only_its_own_field() -> None:
    reads, _made = _reads([])
    loader = batch_loader(reads, _reader("member"), "member")

    found, missing = loader.load(5), loader.load(404)  # one batch

    with pytest.raises(LookupError, match="no member for 404"):
        await missing
    assert await found == "member-5"


async def test_no_answer_outlives_its_batch() -> None:
    # No cache across the request: a second load of a key reads it again (a mutation in
    # between may have changed it).
    log: list[str] = []
    reads, _made = _reads(log)
    loader = batch_loader(reads, _reader("balance"), "balance")

    await loader.load(1)
    await loader.load(1)

    assert log == ["balance [1]", "close", "balance [1]", "close"]
