/**
 * What a till reads from its one "find the shopper" field, and the keys it makes.
 *
 * The field takes a mobile number (any digits, any spacing), a club card code (ten digits,
 * the last a Luhn check digit, as the node makes them), or what a handheld scanner types
 * from the shopper app's network card QR ("mallnet:card:+989121234567"). A grant code is
 * what the shopper's redemption QR carries ("mallnet-grant:<id>:<digits>") or its digits.
 */
import { normalizeDigits } from './digits';
import { parseMobile } from './phone';

export const CARD_QR_PREFIX = 'mallnet:card:';
export const GRANT_QR_PREFIX = 'mallnet-grant:';

/** How the node's API looks a member up (`MemberRefInput`): one of phone or card code. */
export type ShopperRef = { phone: string } | { cardCode: string };

/** Whether ten digits end in the Luhn check digit of the nine before. */
export function isCardCode(text: string): boolean {
  if (!/^[0-9]{10}$/.test(text)) return false;
  let total = 0;
  for (let i = 0; i < 9; i += 1) {
    // From the right of the nine-digit body: the first, third, … digits double.
    let digit = Number(text[8 - i]);
    if (i % 2 === 0) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    total += digit;
  }
  return (10 - (total % 10)) % 10 === Number(text[9]);
}

/**
 * The ways to look up what was typed or scanned, to try in order; empty when it is
 * neither a mobile number nor a card code. Ten digits starting with 9 may be either (a
 * mobile typed without its 0, or a card): the card is tried first when its check digit
 * fits, then the phone.
 */
export function readShopper(text: string): ShopperRef[] {
  const plain = normalizeDigits(text.trim());
  if (plain.toLowerCase().startsWith(CARD_QR_PREFIX)) {
    const phone = parseMobile(plain.slice(CARD_QR_PREFIX.length));
    return phone ? [{ phone }] : [];
  }
  const compact = plain.replace(/[\s\u00a0-]/g, '');
  const refs: ShopperRef[] = [];
  if (isCardCode(compact)) refs.push({ cardCode: compact });
  const phone = parseMobile(plain);
  if (phone) refs.push({ phone });
  return refs;
}

/**
 * A shopper's redemption grant as the hub takes it (`grantCode`): the QR payload as
 * scanned, or 6–8 digits in any script; null for anything else.
 */
export function readGrantCode(text: string): string | null {
  const plain = normalizeDigits(text.trim());
  if (/^mallnet-grant:[0-9A-Z]{26}:[0-9]{6,8}$/.test(plain)) return plain;
  const digits = plain.replace(/[\s\u00a0-]/g, '');
  return /^[0-9]{6,8}$/.test(digits) ? digits : null;
}

const KEY_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A Tehran calendar day (Gregorian digits) for keys: "20261205". */
function tehranDay(now: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Tehran',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}${part('month')}${part('day')}`;
}

/**
 * A receipt or refund id the till makes for one sale: the shop, the Tehran day and
 * random letters ("ketab-sara-20261205-k3x9q2ma"), visible ASCII within the API's 64
 * characters. Made once per sale and sent again on a retry: the node records a receipt
 * once, whatever the number of tries.
 */
export function newTillKey(
  shop: string,
  now: Date = new Date(),
  random: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n)),
): string {
  const slug = shop.replace(/[^0-9A-Za-z-]/g, '').slice(0, 40) || 'till';
  const letters = Array.from(random(8), (b) => KEY_ALPHABET[b % KEY_ALPHABET.length]).join('');
  return `${slug}-${tehranDay(now)}-${letters}`;
}
