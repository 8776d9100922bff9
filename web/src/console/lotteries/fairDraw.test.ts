import { describe, expect, it } from 'vitest';

import { type Entrant, type PublishedRecord, drawWinners, verifyDraw } from './fairDraw';
import vector from './drawVector.json';

// Made by the hub's own draw (tests/unit/test_draw_vector.py checks it still is).
const record = vector as unknown as PublishedRecord & { tickets: Entrant[] };

describe('the in-browser re-run of mallnet-lottery-v1', () => {
  it('draws the winners the hub drew from the same published data', async () => {
    const winners = await drawWinners(
      record.seed_hex,
      record.public_value,
      record.tickets,
      record.winners_requested,
    );
    expect(winners).toEqual(record.winners);
    expect(await verifyDraw(record, record.tickets)).toEqual([]);
  });

  it('finds a changed winner, public value, seed or list', async () => {
    const first = record.winners[0]!;
    const swapped = { ...record, winners: [{ ...first, position: first.position + 1 }, ...record.winners.slice(1)] };
    expect((await verifyDraw(swapped, record.tickets)).map((d) => d.part)).toEqual(['winner 1']);

    const otherValue = await verifyDraw({ ...record, public_value: 'another' }, record.tickets);
    expect(otherValue.some((d) => d.part.startsWith('winner'))).toBe(true);

    const otherSeed = await verifyDraw({ ...record, seed_hex: '00'.repeat(32) }, record.tickets);
    expect(otherSeed[0]?.part).toBe('commitment');

    const moreTickets = record.tickets.map(([id, n], i): Entrant => [id, i === 0 ? n + 1 : n]);
    const parts = (await verifyDraw(record, moreTickets)).map((d) => d.part);
    expect(parts.slice(0, 2)).toEqual(['list_digest', 'total_tickets']);
  });

  it('gives every entrant when fewer entrants than winners, in drawn order', async () => {
    const few = record.tickets.slice(0, 3);
    const winners = await drawWinners(record.seed_hex, 'x', few, 5);
    expect(winners.map((w) => w.position).sort()).toEqual([0, 1, 2]);
  });
});
