/**
 * Every string of the faces comes from one catalogue per language (`fa.json`, `en.json`,
 * the same keys; `npm run i18n:check` fails on a key missing, empty or unused by name in
 * either). Persian first: a new visitor gets Persian, right to left; the choice of English
 * is kept on the device (only the language, never anything about the person).
 */
import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';

import en from './en.json';
import fa from './fa.json';

export const LANGUAGES = ['fa', 'en'] as const;
export type Lang = (typeof LANGUAGES)[number];
export type Direction = 'rtl' | 'ltr';

export const resources = { fa: { translation: fa }, en: { translation: en } } as const;

const STORAGE_KEY = 'mallnet.lang';

export function isLang(value: unknown): value is Lang {
  return value === 'fa' || value === 'en';
}

export function directionOf(lang: Lang): Direction {
  return lang === 'fa' ? 'rtl' : 'ltr';
}

export function otherLanguage(lang: Lang): Lang {
  return lang === 'fa' ? 'en' : 'fa';
}

/** The language chosen on this device before, else Persian. */
export function savedLanguage(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    return isLang(saved) ? saved : 'fa';
  } catch {
    return 'fa'; // storage refused (private mode): Persian
  }
}

/** `<html lang dir>` for the language, and the choice kept for the next visit. */
export function applyLanguage(lang: Lang): void {
  document.documentElement.lang = lang;
  document.documentElement.dir = directionOf(lang);
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Not kept: the next visit starts in Persian again.
  }
}

/** A ready i18next instance (synchronous: the catalogues are bundled). */
export function createI18n(lang: Lang): i18n {
  const instance = i18next.createInstance();
  void instance.use(initReactI18next).init({
    resources,
    lng: lang,
    supportedLngs: LANGUAGES,
    fallbackLng: false,
    initAsync: false,
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
  });
  return instance;
}
