/**
 * The arithmetic the message previews show, kept apart from the pages so it is tested:
 * how full each SMS part is (counted as the node counts it, mallnet/messaging/segments.py:
 * a GSM extension character is two septets, an emoji two UTF-16 units), the cost line of
 * a send to a list (recipients by SMS × parts × the price of a part = the node's total),
 * whether a send's progress is still worth asking about, the direction to show a text in,
 * and the list's filter in words.
 * Money stays integer Rial here; the pages show it as toman.
 */
import type { MemberFilterVariables } from '../members/filters';

export type Encoding = 'GSM-7' | 'UCS-2';

// Sent as an escape and a code: two septets each (3GPP TS 23.038's extension table).
const GSM_EXTENSION = new Set('\f^{}\\[~]|€');

/** The units one part takes in its encoding: septets (GSM-7) or UTF-16 units (UCS-2). */
export function partUnits(part: string, encoding: string): number {
  if (encoding !== 'GSM-7') return part.length; // a JS string's length is in UTF-16 units
  let units = 0;
  for (const char of part) units += GSM_EXTENSION.has(char) ? 2 : 1;
  return units;
}

export interface PhonePart {
  /** 1-based, as a phone numbers them. */
  n: number;
  text: string;
  units: number;
  limit: number;
}

/** The parts a phone receives, each with how much of its limit it fills. */
export function phoneParts(partTexts: readonly string[], encoding: string, perPart: number): PhonePart[] {
  return partTexts.map((text, i) => ({ n: i + 1, text, units: partUnits(text, encoding), limit: perPart }));
}

/** The catalogue key of an encoding's name (GSM-7: Latin letters; UCS-2: Persian). */
export function encodingKey(encoding: string): 'messaging.encoding.gsm7' | 'messaging.encoding.ucs2' {
  return encoding === 'GSM-7' ? 'messaging.encoding.gsm7' : 'messaging.encoding.ucs2';
}

export interface CostLine {
  sms: number;
  parts: number;
  partPriceRial: number;
  totalRial: number;
  /** Whether the factors give the node's total (they do, unless the node's rule changes:
   * then only the total is shown, never a product that does not add up). */
  adds: boolean;
}

/** A send's estimated cost, as its factors and the node's total. */
export function costLine(preview: {
  bySms: number;
  segments?: { parts: number } | null | undefined;
  partPriceRial: number;
  costRial: number;
}): CostLine {
  const parts = preview.segments?.parts ?? 0;
  const product = BigInt(preview.bySms) * BigInt(parts) * BigInt(preview.partPriceRial);
  return {
    sms: preview.bySms,
    parts,
    partPriceRial: preview.partPriceRial,
    totalRial: preview.costRial,
    adds: product === BigInt(preview.costRial),
  };
}

const FINISHED = new Set(['done', 'failed']);
// Messages a worker will still move without waiting for anything (held ones wait for the
// quiet hours to end, hours away: no point asking every two seconds).
const MOVING = new Set(['QUEUED', 'SENDING']);

/** Whether to ask again how a send is going: its list is still being walked, or some of
 * its messages are about to go. */
export function stillMoving(broadcast: { status: string; deliveries: readonly { status: string; count: number }[] }): boolean {
  if (!FINISHED.has(broadcast.status)) return true;
  return broadcast.status === 'done' && broadcast.deliveries.some((d) => MOVING.has(d.status) && d.count > 0);
}

/** The catalogue key of a send's status (queued, sending, done, failed). */
export function broadcastStatusKey(status: string): `messaging.progress.status.${'queued' | 'sending' | 'done' | 'failed'}` {
  const known = status === 'sending' || status === 'done' || status === 'failed' ? status : 'queued';
  return `messaging.progress.status.${known}`;
}

// Letters of the Arabic script (Persian among them), and Latin ones.
const ARABIC_LETTER = /[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\ufb50-\ufdff\ufe70-\ufefc]/gu;
const LATIN_LETTER = /[A-Za-z]/g;

/** The direction to show a message in whose language is not known (the log's): the
 * script most of its letters are in. An English text naming a Persian shop stays left to
 * right; a Persian one starting with «ketab-sara» or a placeholder stays right to left
 * (the browser's dir="auto" takes the first letter, and gets both wrong). */
export function textDirection(text: string): 'rtl' | 'ltr' {
  const arabic = text.match(ARABIC_LETTER)?.length ?? 0;
  const latin = text.match(LATIN_LETTER)?.length ?? 0;
  return arabic > latin ? 'rtl' : 'ltr';
}

/** The direction of a text written in one of the messages' languages. */
export function langDirection(lang: string): 'rtl' | 'ltr' {
  return lang === 'fa' ? 'rtl' : 'ltr';
}

export type FilterField = keyof MemberFilterVariables;

/** The filter's given fields in the members page's order, for "to the list filtered by". */
export function filterFields(filter: MemberFilterVariables): [FilterField, string][] {
  const order: FilterField[] = [
    'search',
    'tier',
    'membershipType',
    'tag',
    'joinedFrom',
    'joinedTo',
    'lastVisitFrom',
    'lastVisitTo',
  ];
  return order.flatMap((name) => {
    const value = filter[name];
    return value ? [[name, value] as [FilterField, string]] : [];
  });
}
