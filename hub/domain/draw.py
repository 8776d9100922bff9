"""The lottery draw: committed in advance, re-runnable by anyone from published data.

Pure: no database, no web, no tasks. The services load the ticket list and store the result.

Algorithm ``mallnet-lottery-v1``
================================

1. **Commitment.** When the lottery opens the hub picks a secret 32-byte ``seed`` and
   publishes ``commitment = hex(SHA-256(seed))`` (lowercase hex).

2. **Ticket list.** When entry closes the list is frozen: one entrant per shopper, each
   named by a 64-character lowercase-hex **entrant id** (32 raw bytes) with a positive
   ticket count. An entrant id is random, made by the hub for one shopper in one lottery
   when her first purchase enters it, and kept there: it is never derived from her
   pseudonym or phone, so the published list names nobody (every node can compute
   pseudonyms, and every Iranian mobile can be hashed). She sees her own in the app, and
   finds herself in the list by it. Entrants are in *canonical order*: ascending entrant
   id (byte order and hex order agree), each id once. Position ``i`` is the 0-based index
   in that order; entrant ``i`` owns the ticket numbers ``[C(i) - t(i), C(i))`` where
   ``C`` is the running sum of counts. The total must be below 2**63.

3. **List digest.** ``list_digest = hex(SHA-256(E(0) || E(1) || ... || E(n-1)))`` where
   ``E(i)`` is the 32 raw entrant-id bytes followed by the ticket count as an 8-byte
   big-endian unsigned integer (40 bytes per entrant; the empty list hashes the empty
   string).

4. **Public value.** After the list is frozen, a value nobody controls becomes known (e.g. a
   named future block hash or a published index close), chosen and announced in advance.

5. **Root and stream.** ``root = HMAC-SHA256(key=seed, msg=b"mallnet-lottery-v1|" +
   list_digest as 64 ASCII hex characters + b"|" + public value as UTF-8)``. Block ``j``
   (j = 0, 1, 2, ...) is ``SHA-256(root || j as 8-byte big-endian)``. Blocks are consumed in
   order, one per attempt below, across all draws of the lottery.

6. **Uniform integer in [0, m)** (m >= 1): ``k = bit length of (m - 1)`` (0 when m = 1).
   Take the next block, read its first 8 bytes as a big-endian unsigned 64-bit ``x`` and let
   ``r = x >> (64 - k)`` (its top k bits; r = 0 when k = 0). If ``r < m`` the result is
   ``r``; otherwise reject and take the next block. No modulo, so no bias.

7. **Winners, without replacement.** Start with no winners and ``remaining = total``. While
   fewer than the requested winners are drawn and ``remaining > 0``: draw ``r`` uniform in
   ``[0, remaining)``; list the entrants not yet drawn, in canonical order, with their ticket
   counts laid end to end from 0; the winner is the one whose range holds ``r``. Remove it
   (``remaining -= its tickets``) and repeat. Each pick is therefore proportional to tickets
   among those not yet drawn, and an entrant wins at most once. With fewer entrants than
   winners, every entrant wins, in drawn order.

   This implementation gets the same entrant without rebuilding the list: it keeps the
   drawn entrants' original ranges sorted by start, maps ``r`` to the original numbering by
   walking them (``if start <= r: r += width``, stopping at the first start beyond ``r``),
   then finds the owner by binary search on the running sums. Exact, O(k) per draw.

8. **Verification.** Anyone holding the published record and ticket list checks that
   SHA-256(seed) is the commitment, that the list hashes to the digest, and that steps 5-7
   give the same winners. The seed being fixed before the list, and the public value
   unknown until after it, means neither the hub nor an entrant could steer the outcome.
   Entrant ids are made as purchases enter the lottery (step 2): like the rest of the
   list, they are fixed before the public value becomes known, so their order steers
   nothing either.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hub.domain.problems import HubError, ProblemCode

ALGORITHM = "mallnet-lottery-v1"
SEED_BYTES = 32
MIN_SEED_BYTES = 16
ENTRANT_ID_BYTES = 32
MAX_TOTAL_TICKETS = 2**63 - 1  # running sums are int64
_ENTRANT_ID = re.compile(r"[0-9a-f]{64}")
_DIGEST_CHUNK = 1 << 20  # entrants hashed per step: 40 MiB of scratch, whatever the list size
_ENTRY = np.dtype([("entrant_id", f"S{ENTRANT_ID_BYTES}"), ("tickets", ">u8")])

EntrantIds = npt.NDArray[np.bytes_]
Counts = npt.NDArray[np.int64]


class InvalidTickets(HubError, ValueError):
    """The ticket list cannot be frozen as given; nothing was drawn."""

    def __init__(self, message: str) -> None:
        super().__init__(ProblemCode.INVALID_TICKETS, message, "tickets")


def new_seed() -> bytes:
    return secrets.token_bytes(SEED_BYTES)


def new_entrant_id() -> str:
    """A shopper's id in one lottery: random, so nothing about her can be read from it."""
    return secrets.token_hex(ENTRANT_ID_BYTES)


def commit(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


class TicketList:
    """Entrants in canonical order, held as two read-only arrays.

    10 million entrants take 320 MB of entrant ids and 80 MB of counts; no Python object is
    made per entrant.
    """

    __slots__ = ("_counts", "_digest", "_ids", "_total")

    def __init__(self, ids: EntrantIds, counts: Counts, total: int) -> None:
        """Use ``from_pairs`` or ``from_arrays``: they validate; this does not."""
        self._ids = ids
        self._counts = counts
        self._total = total
        self._digest: str | None = None

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, int]]) -> TicketList:
        """Entrants as ``(entrant_id_hex, tickets)`` in any order."""
        raw: list[bytes] = []
        counts: list[int] = []
        for entrant_id, tickets in pairs:
            if not isinstance(entrant_id, str) or not _ENTRANT_ID.fullmatch(entrant_id):
                raise InvalidTickets(
                    f"entrant id {entrant_id!r} is not 64 lowercase hex characters; "
                    "pass the shopper's entrant id in this lottery"
                )
            # bool is an int; True tickets is a bug upstream, not one ticket.
            if type(tickets) is not int or tickets < 1:
                raise InvalidTickets(
                    f"entrant {entrant_id} has {tickets!r} tickets; each entrant needs a "
                    "whole number of at least 1 (leave out shoppers with none)"
                )
            if tickets > MAX_TOTAL_TICKETS:
                raise InvalidTickets(f"entrant {entrant_id} has more than 2**63 - 1 tickets")
            raw.append(bytes.fromhex(entrant_id))
            counts.append(tickets)
        return cls.from_arrays(
            np.array(raw, dtype=f"S{ENTRANT_ID_BYTES}"), np.array(counts, dtype=np.int64)
        )

    @classmethod
    def from_arrays(cls, ids: npt.ArrayLike, counts: npt.ArrayLike) -> TicketList:
        """Entrants as an ``S32`` array of raw entrant ids (or uint8 rows of 32) and counts.

        Already-canonical arrays of the right dtype are adopted without a copy and made
        read-only — at 10 million entrants a copy is 400 MB. Unsorted input is sorted.
        """
        names = np.asarray(ids)
        if names.dtype == np.uint8 and names.ndim == 2 and names.shape[1] == ENTRANT_ID_BYTES:
            names = np.ascontiguousarray(names).view(f"S{ENTRANT_ID_BYTES}").reshape(-1)
        if names.dtype != np.dtype(f"S{ENTRANT_ID_BYTES}") or names.ndim != 1:
            raise InvalidTickets(
                f"entrant ids must be a 1-D S{ENTRANT_ID_BYTES} array of raw bytes, "
                f"got {names.dtype} with shape {names.shape}"
            )
        raw_counts = np.asarray(counts)
        if raw_counts.ndim != 1 or raw_counts.dtype.kind not in "iu":
            raise InvalidTickets(
                f"ticket counts must be a 1-D integer array, got {raw_counts.dtype} "
                f"with shape {raw_counts.shape}"
            )
        if len(raw_counts) != len(names):
            raise InvalidTickets(
                f"{len(names)} entrant ids but {len(raw_counts)} ticket counts; "
                "pass one count per entrant"
            )
        if len(raw_counts) and int(raw_counts.min()) < 1:
            at = int(np.argmin(raw_counts))
            raise InvalidTickets(
                f"entrant {_hex(names[at])} has {int(raw_counts[at])} tickets; each entrant "
                "needs at least 1 (leave out shoppers with none)"
            )
        if len(raw_counts) and int(raw_counts.max()) > MAX_TOTAL_TICKETS:
            raise InvalidTickets("a ticket count exceeds 2**63 - 1")
        tally = np.ascontiguousarray(raw_counts, dtype=np.int64)
        total = _exact_sum(tally)
        if total > MAX_TOTAL_TICKETS:
            raise InvalidTickets(
                f"{total} tickets in all; the draw supports at most 2**63 - 1 (int64 sums)"
            )
        names = np.ascontiguousarray(names)
        if len(names) > 1 and not bool(np.all(names[1:] > names[:-1])):
            order = np.argsort(names, kind="stable")
            names, tally = names[order], tally[order]
            repeated = np.flatnonzero(names[1:] == names[:-1])
            if len(repeated):
                raise InvalidTickets(
                    f"entrant id {_hex(names[repeated[0]])} appears more than once; "
                    "merge its tickets into one entry"
                )
        names.flags.writeable = False
        tally.flags.writeable = False
        return cls(names, tally, total)

    def __len__(self) -> int:
        return len(self._counts)

    @property
    def ids(self) -> EntrantIds:
        """Raw 32-byte entrant ids, read-only; use ``id_at`` for hex, as numpy drops
        trailing zero bytes when it hands out a single ``S32`` element."""
        return self._ids

    @property
    def counts(self) -> Counts:
        return self._counts

    @property
    def total(self) -> int:
        return self._total

    def id_at(self, position: int) -> str:
        return _hex(self._ids[position])

    def pairs(self) -> Iterator[tuple[str, int]]:
        """``(entrant_id_hex, tickets)`` in canonical order: the publishable form."""
        for position in range(len(self)):
            yield self.id_at(position), int(self._counts[position])


def list_digest(tickets: TicketList) -> str:
    """SHA-256 over each entrant's 32 raw entrant-id bytes + 8-byte big-endian count."""
    cached = tickets._digest
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    size = len(tickets)
    scratch = np.empty(min(size, _DIGEST_CHUNK), dtype=_ENTRY)
    for start in range(0, size, _DIGEST_CHUNK):
        stop = min(size, start + _DIGEST_CHUNK)
        chunk = scratch[: stop - start]
        chunk["entrant_id"] = tickets.ids[start:stop]
        chunk["tickets"] = tickets.counts[start:stop]
        digest.update(chunk.view(np.uint8).data)
    tickets._digest = digest.hexdigest()
    return tickets._digest


def encode(tickets: TicketList) -> bytes:
    """The frozen list in its canonical encoding (what ``list_digest`` hashes): 40 bytes an
    entrant, in order. Published as is."""
    packed = np.empty(len(tickets), dtype=_ENTRY)
    packed["entrant_id"] = tickets.ids
    packed["tickets"] = tickets.counts
    return packed.tobytes()


def decode(data: bytes, start: int = 0, stop: int | None = None) -> TicketList:
    """A list (or the entrants ``start`` to ``stop`` of it) from its canonical encoding."""
    if len(data) % _ENTRY.itemsize:
        raise InvalidTickets(
            f"{len(data)} bytes is not a whole number of {_ENTRY.itemsize}-byte entrants"
        )
    packed = np.frombuffer(data, dtype=_ENTRY)[start:stop]
    return TicketList.from_arrays(packed["entrant_id"].copy(), packed["tickets"].astype(np.int64))


@dataclass(frozen=True, slots=True)
class Winner:
    entrant_id: str
    tickets: int
    position: int  # 0-based index in the canonical ticket list


@dataclass(frozen=True, slots=True)
class Draw:
    winners: tuple[Winner, ...]  # in drawn order: first prize first
    seed_hex: str
    commitment: str
    public_value: str
    list_digest: str
    total_tickets: int
    entrants: int
    winners_requested: int
    algorithm: str = ALGORITHM


class _Blocks:
    """The deterministic stream of steps 5 and 6 of the module docstring."""

    def __init__(self, root: bytes) -> None:
        self._root = root
        self._counter = 0

    def below(self, limit: int) -> int:
        bits = (limit - 1).bit_length()
        while True:
            block = hashlib.sha256(self._root + self._counter.to_bytes(8, "big")).digest()
            self._counter += 1
            candidate = int.from_bytes(block[:8], "big") >> (64 - bits)
            if candidate < limit:
                return candidate


def _root(seed: bytes, digest: str, public_value: str) -> bytes:
    message = f"{ALGORITHM}|{digest}|".encode("ascii") + public_value.encode("utf-8")
    return hmac.new(seed, message, hashlib.sha256).digest()


def draw(seed: bytes, public_value: str, tickets: TicketList, winners: int) -> Draw:
    """Draw ``winners`` distinct entrants, each pick weighted by tickets (see module doc)."""
    if len(seed) < MIN_SEED_BYTES:
        raise ValueError(
            f"the seed has {len(seed)} bytes; use at least {MIN_SEED_BYTES} (new_seed() "
            f"makes {SEED_BYTES}) so the commitment cannot be brute-forced"
        )
    if winners < 0:
        raise ValueError(f"cannot draw {winners} winners; ask for 0 or more")
    digest = list_digest(tickets)
    blocks = _Blocks(_root(seed, digest, public_value))
    picked: list[Winner] = []
    remaining = tickets.total
    if winners and remaining:
        ends = np.cumsum(tickets.counts, dtype=np.int64)
        drawn: list[tuple[int, int]] = []  # (first ticket, tickets) of winners, by start
        while len(picked) < winners and remaining > 0:
            ticket = blocks.below(remaining)
            for start, width in drawn:
                if start > ticket:
                    break
                ticket += width
            position = int(np.searchsorted(ends, ticket, side="right"))
            width = int(tickets.counts[position])
            bisect.insort(drawn, (int(ends[position]) - width, width))
            remaining -= width
            picked.append(Winner(tickets.id_at(position), width, position))
    return Draw(
        winners=tuple(picked),
        seed_hex=seed.hex(),
        commitment=commit(seed),
        public_value=public_value,
        list_digest=digest,
        total_tickets=tickets.total,
        entrants=len(tickets),
        winners_requested=winners,
    )


def published_record(result: Draw) -> dict[str, Any]:
    """The JSON-ready record to publish with the result; the ticket list goes out apart."""
    return {
        "algorithm": result.algorithm,
        "seed_hex": result.seed_hex,
        "commitment": result.commitment,
        "public_value": result.public_value,
        "list_digest": result.list_digest,
        "total_tickets": result.total_tickets,
        "entrants": result.entrants,
        "winners_requested": result.winners_requested,
        "winners": [
            {"entrant_id": w.entrant_id, "tickets": w.tickets, "position": w.position}
            for w in result.winners
        ],
    }


def verify(published: Mapping[str, Any]) -> list[str]:
    """Re-run a published draw; return each disagreement found (none: the draw stands).

    ``published`` is ``published_record(...)`` plus ``tickets``: a ``TicketList`` or the
    ``(entrant_id_hex, tickets)`` pairs as published.
    """
    required = (
        "algorithm",
        "seed_hex",
        "commitment",
        "public_value",
        "list_digest",
        "winners_requested",
        "winners",
        "tickets",
    )
    missing = [name for name in required if name not in published]
    if missing:
        return [f"record lacks {', '.join(missing)}; cannot re-run the draw"]
    if published["algorithm"] != ALGORITHM:
        return [f"algorithm {published['algorithm']!r} is not {ALGORITHM!r}; cannot re-run"]
    try:
        seed = bytes.fromhex(published["seed_hex"])
    except (TypeError, ValueError):
        return [f"seed_hex {published['seed_hex']!r} is not hex"]
    tickets = published["tickets"]
    if not isinstance(tickets, TicketList):
        try:
            tickets = TicketList.from_pairs((str(p), t) for p, t in tickets)
        except (InvalidTickets, TypeError, ValueError) as error:
            return [f"the published ticket list is unusable: {error}"]
    try:
        again = draw(seed, str(published["public_value"]), tickets, published["winners_requested"])
    except (TypeError, ValueError) as error:
        return [f"the draw cannot be re-run from this record: {error}"]

    differences: list[str] = []
    for name, recomputed in (
        ("commitment", again.commitment),
        ("list_digest", again.list_digest),
        ("total_tickets", again.total_tickets),
        ("entrants", again.entrants),
    ):
        if name in published and published[name] != recomputed:
            differences.append(f"{name}: published {published[name]!r}, recomputed {recomputed!r}")
    claimed = published["winners"]
    if not isinstance(claimed, list | tuple):
        differences.append(f"winners: published {claimed!r}, not a list")
    else:
        differences.extend(_winner_differences(claimed, again.winners))
    return differences


def _winner_differences(published: Sequence[Any], recomputed: Sequence[Winner]) -> list[str]:
    differences: list[str] = []
    if len(published) != len(recomputed):
        differences.append(f"winners: {len(published)} published, {len(recomputed)} recomputed")
    for rank, (claimed, actual) in enumerate(zip(published, recomputed, strict=False), 1):
        expected = {
            "entrant_id": actual.entrant_id,
            "tickets": actual.tickets,
            "position": actual.position,
        }
        if claimed != expected:
            differences.append(f"winner {rank}: published {claimed!r}, recomputed {expected!r}")
    return differences


def _hex(raw: bytes) -> str:
    # numpy strips trailing zero bytes from an S32 element; the entrant id still has them.
    return raw.ljust(ENTRANT_ID_BYTES, b"\0").hex()


def _exact_sum(counts: Counts) -> int:
    """The sum as a Python int: numpy's int64 sum would wrap silently on overflow."""
    if not len(counts):
        return 0
    if int(counts.max()) <= MAX_TOTAL_TICKETS // len(counts):
        return int(counts.sum())
    # Halves of at most 32 bits each: their uint64 sums cannot wrap below 2**32 entrants.
    high = int(np.sum(counts >> 32, dtype=np.uint64))
    low = int(np.sum(counts & 0xFFFFFFFF, dtype=np.uint64))
    return (high << 32) + low
