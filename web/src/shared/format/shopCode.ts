/**
 * The code a till shows for the shopper app to scan: "mallnet:shop:<slug>", the slug as
 * the network spells shop slugs (mallnet.config.SHOP_SLUG: lowercase letters, digits and
 * hyphens, 3–40 characters, a letter first, no hyphen last). Anything else scanned is not
 * a shop code: the app never follows a scanned link or trusts other text.
 */
export const SHOP_QR_PREFIX = 'mallnet:shop:';

const SHOP_SLUG = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

/** What a till's shop code carries for a shop slug. */
export function shopCodePayload(slug: string): string {
  return SHOP_QR_PREFIX + slug;
}

/**
 * The shop slug a scanned code names, or null when it is not a shop code. Only spaces at
 * either end are forgiven (a scanner may add a line end); the prefix is matched exactly.
 */
export function readShopCode(text: string): string | null {
  const plain = text.trim();
  if (!plain.startsWith(SHOP_QR_PREFIX)) return null;
  const slug = plain.slice(SHOP_QR_PREFIX.length);
  return SHOP_SLUG.test(slug) ? slug : null;
}
