import { Button, useDirection } from '@mantine/core';
import { useTranslation } from 'react-i18next';

import { applyLanguage, directionOf, isLang, otherLanguage } from '../i18n';

/** One click to the other language: text, digits, dates and direction all follow. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const { setDirection } = useDirection();
  const next = otherLanguage(isLang(i18n.language) ? i18n.language : 'fa');
  const change = () => {
    applyLanguage(next);
    setDirection(directionOf(next));
    void i18n.changeLanguage(next);
  };
  return (
    <Button variant="default" size="sm" onClick={change} lang={next} title={t('lang.label')}>
      {t('lang.switchTo')}
    </Button>
  );
}
