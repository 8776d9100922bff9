/**
 * The lottery draw `mallnet-lottery-v1` re-run from what a drawn lottery published (its
 * record and its frozen ticket list), as the hub's `hub/domain/draw.py` documents and
 * draws it: SHA-256 of the seed is the commitment; the list digest is SHA-256 over each
 * entrant's 32 id bytes and 8-byte big-endian ticket count; the root is
 * HMAC-SHA256(seed, "mallnet-lottery-v1|" + digest + "|" + public value); block j is
 * SHA-256(root || j as 8 bytes); a number below m takes the top bits of a block's first 8
 * bytes and rejects those ≥ m; winners are drawn without replacement, weighted by tickets.
 *
 * Pure (Web Crypto and BigInt only), so the worker runs it and the unit test checks it
 * against a vector the Python implementation made.
 */

export const ALGORITHM = 'mallnet-lottery-v1';

export interface PublishedWinner {
  entrant_id: string;
  tickets: number;
  position: number;
}

/** The published record as the hub stores it (`published_record`), snake_case keys. */
export interface PublishedRecord {
  algorithm: string;
  seed_hex: string;
  commitment: string;
  public_value: string;
  list_digest: string;
  total_tickets?: number;
  entrants?: number;
  winners_requested: number;
  winners: PublishedWinner[];
}

/** One entrant of the frozen list, in canonical order: [entrant id hex, tickets]. */
export type Entrant = readonly [string, number];

/** A disagreement found by the re-run: which part, what was published, what came out. */
export interface Difference {
  part: string;
  published: string;
  recomputed: string;
}

const ENTRANT_ID = /^[0-9a-f]{64}$/;

function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 || !/^[0-9a-fA-F]*$/.test(hex)) throw new RangeError(`not hex: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i += 1) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

/** The 40-byte-an-entrant canonical encoding the list digest hashes. */
export function encodeList(entrants: readonly Entrant[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(entrants.length * 40);
  const view = new DataView(out.buffer);
  entrants.forEach(([id, tickets], i) => {
    if (!ENTRANT_ID.test(id)) throw new RangeError(`entrant ${i}: ${id} is no entrant id`);
    if (!Number.isSafeInteger(tickets) || tickets < 1) {
      throw new RangeError(`entrant ${i}: ${tickets} tickets`);
    }
    out.set(hexBytes(id), i * 40);
    view.setBigUint64(i * 40 + 32, BigInt(tickets));
  });
  return out;
}

export async function commitmentOf(seedHex: string): Promise<string> {
  return toHex(await sha256(hexBytes(seedHex)));
}

export async function listDigest(entrants: readonly Entrant[]): Promise<string> {
  return toHex(await sha256(encodeList(entrants)));
}

async function rootOf(seed: Uint8Array<ArrayBuffer>, digest: string, publicValue: string) {
  const key = await crypto.subtle.importKey('raw', seed, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const message = new TextEncoder().encode(`${ALGORITHM}|${digest}|${publicValue}`);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, message));
}

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

/** Steps 5 and 6: the block stream and uniform numbers below a limit, without bias. */
class Blocks {
  private counter = 0n;
  constructor(private readonly root: Uint8Array) {}

  async below(limit: bigint): Promise<bigint> {
    const bits = bitLength(limit - 1n);
    const input = new Uint8Array(this.root.length + 8);
    input.set(this.root);
    const view = new DataView(input.buffer);
    for (;;) {
      view.setBigUint64(this.root.length, this.counter);
      this.counter += 1n;
      const block = await sha256(input);
      const x = new DataView(block.buffer).getBigUint64(0);
      const candidate = x >> BigInt(64 - bits);
      if (candidate < limit) return candidate;
    }
  }
}

/** The first position whose running sum is above `ticket` (numpy's searchsorted, right). */
function owner(ends: readonly bigint[], ticket: bigint): number {
  let low = 0;
  let high = ends.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((ends[mid] as bigint) <= ticket) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Step 7: `wanted` distinct winners, each pick weighted by tickets among those left. */
export async function drawWinners(
  seedHex: string,
  publicValue: string,
  entrants: readonly Entrant[],
  wanted: number,
): Promise<PublishedWinner[]> {
  const digest = await listDigest(entrants);
  const blocks = new Blocks(await rootOf(hexBytes(seedHex), digest, publicValue));
  const ends: bigint[] = [];
  let total = 0n;
  for (const [, tickets] of entrants) {
    total += BigInt(tickets);
    ends.push(total);
  }
  const drawn: [bigint, bigint][] = []; // (first ticket, tickets) of winners, by start
  const picked: PublishedWinner[] = [];
  let remaining = total;
  while (picked.length < wanted && remaining > 0n) {
    let ticket = await blocks.below(remaining);
    for (const [start, width] of drawn) {
      if (start > ticket) break;
      ticket += width;
    }
    const position = owner(ends, ticket);
    const [id, tickets] = entrants[position] as Entrant;
    const width = BigInt(tickets);
    const start = (ends[position] as bigint) - width;
    const after = drawn.findIndex(([s]) => s > start);
    drawn.splice(after === -1 ? drawn.length : after, 0, [start, width]);
    remaining -= width;
    picked.push({ entrant_id: id, tickets, position });
  }
  return picked;
}

/** Re-run a published draw; every disagreement found (none: the draw stands). */
export async function verifyDraw(
  record: PublishedRecord,
  entrants: readonly Entrant[],
): Promise<Difference[]> {
  if (record.algorithm !== ALGORITHM) {
    return [{ part: 'algorithm', published: record.algorithm, recomputed: ALGORITHM }];
  }
  const differences: Difference[] = [];
  const compare = (
    part: string,
    published: string | number | bigint | undefined,
    recomputed: string | number | bigint,
  ) => {
    if (published !== undefined && String(published) !== String(recomputed)) {
      differences.push({ part, published: String(published), recomputed: String(recomputed) });
    }
  };
  compare('commitment', record.commitment, await commitmentOf(record.seed_hex));
  compare('list_digest', record.list_digest, await listDigest(entrants));
  compare('entrants', record.entrants, entrants.length);
  compare(
    'total_tickets',
    record.total_tickets,
    entrants.reduce((sum, [, tickets]) => sum + BigInt(tickets), 0n),
  );
  const again = await drawWinners(
    record.seed_hex,
    record.public_value,
    entrants,
    record.winners_requested,
  );
  const shown = (w: PublishedWinner | undefined) =>
    w ? `${w.entrant_id}/${w.tickets}/${w.position}` : '—';
  const places = Math.max(again.length, record.winners.length);
  for (let place = 0; place < places; place += 1) {
    compare(`winner ${place + 1}`, shown(record.winners[place]), shown(again[place]));
  }
  return differences;
}
