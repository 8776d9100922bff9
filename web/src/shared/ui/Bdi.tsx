/**
 * Numbers, codes and phone numbers inside Persian text, each isolated in a `<bdi>` so the
 * surrounding right-to-left text cannot reorder their digits and signs.
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

import { formatPhone, formatToman, localDigits, maskPhone, type RialAmount } from '../format';

type Dir = 'ltr' | 'rtl' | 'auto';

export function Bdi({ children, dir = 'ltr' }: { children: ReactNode; dir?: Dir }) {
  return <bdi dir={dir}>{children}</bdi>;
}

/** An amount of Rial from the API, shown in toman with its unit. */
export function Toman({ rial }: { rial: RialAmount }) {
  const { t, i18n } = useTranslation();
  return (
    <span>
      <Bdi>{formatToman(rial, i18n.language)}</Bdi> {t('money.toman')}
    </span>
  );
}

/** A mobile number from the API (E.164), as people write it. */
export function Phone({ e164 }: { e164: string }) {
  const { i18n } = useTranslation();
  return <Bdi>{formatPhone(e164, i18n.language)}</Bdi>;
}

/** A mobile with its middle hidden (a receipt the shopper takes away). */
export function MaskedPhone({ e164 }: { e164: string }) {
  const { i18n } = useTranslation();
  return <Bdi>{maskPhone(e164, i18n.language)}</Bdi>;
}

/** A code to read out or type (a card number, a one-time code), in the language's digits. */
export function Code({ value }: { value: string }) {
  const { i18n } = useTranslation();
  return <Bdi>{localDigits(value, i18n.language)}</Bdi>;
}
