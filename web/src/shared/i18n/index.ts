/**
 * Every string of the faces comes from one catalogue per language, kept in files beside
 * what uses them: `shared/i18n/<lang>.json` (the frame, sessions, money, problems) and
 * `<face>/messages/<lang>.json` and `<face>/messages/<part>.<lang>.json` (each face's pages,
 * each file under one top-level key of its own: `shopper`, `till`, `mall`, `members`…). `npm run i18n:check` fails on a key missing or empty in
 * either language, or a top-level key two files share. Persian first: a new visitor gets Persian, right to left; the choice of English
 * is kept on the device (only the language, never anything about the person).
 */
import i18next, { type i18n } from 'i18next';
import { initReactI18next } from 'react-i18next';

import appEn from '../../app/messages/en.json';
import appFa from '../../app/messages/fa.json';
import consoleEn from '../../console/messages/en.json';
import consoleFa from '../../console/messages/fa.json';
import dashboardEn from '../../dashboard/messages/en.json';
import dashboardFa from '../../dashboard/messages/fa.json';
import dashboardMembersEn from '../../dashboard/messages/members.en.json';
import dashboardMembersFa from '../../dashboard/messages/members.fa.json';
import dashboardMessagingEn from '../../dashboard/messages/messaging.en.json';
import dashboardMessagingFa from '../../dashboard/messages/messaging.fa.json';
import dashboardOffersEn from '../../dashboard/messages/offers.en.json';
import dashboardOffersFa from '../../dashboard/messages/offers.fa.json';
import dashboardPolicyEn from '../../dashboard/messages/policy.en.json';
import dashboardPolicyFa from '../../dashboard/messages/policy.fa.json';
import dashboardShopNetworkEn from '../../dashboard/messages/shopNetwork.en.json';
import dashboardShopNetworkFa from '../../dashboard/messages/shopNetwork.fa.json';
import dashboardShopSettlementEn from '../../dashboard/messages/shopSettlement.en.json';
import dashboardShopSettlementFa from '../../dashboard/messages/shopSettlement.fa.json';
import dashboardStaffEn from '../../dashboard/messages/staff.en.json';
import dashboardStaffFa from '../../dashboard/messages/staff.fa.json';
import dashboardTodayEn from '../../dashboard/messages/today.en.json';
import dashboardTodayFa from '../../dashboard/messages/today.fa.json';
import consoleMallCampaignsEn from '../../console/messages/mallCampaigns.en.json';
import consoleMallCampaignsFa from '../../console/messages/mallCampaigns.fa.json';
import consoleMallLotteriesEn from '../../console/messages/mallLotteries.en.json';
import consoleMallLotteriesFa from '../../console/messages/mallLotteries.fa.json';
import consoleMallMessagesEn from '../../console/messages/mallMessages.en.json';
import consoleMallMessagesFa from '../../console/messages/mallMessages.fa.json';
import consoleMallRelayedEn from '../../console/messages/mallRelayed.en.json';
import consoleMallRelayedFa from '../../console/messages/mallRelayed.fa.json';
import consoleMallOverviewEn from '../../console/messages/mallOverview.en.json';
import consoleMallOverviewFa from '../../console/messages/mallOverview.fa.json';
import consoleMallPartnershipsEn from '../../console/messages/mallPartnerships.en.json';
import consoleMallPartnershipsFa from '../../console/messages/mallPartnerships.fa.json';
import consoleMallSettlementEn from '../../console/messages/mallSettlement.en.json';
import consoleMallSettlementFa from '../../console/messages/mallSettlement.fa.json';
import consoleMallShopsEn from '../../console/messages/mallShops.en.json';
import consoleMallShopsFa from '../../console/messages/mallShops.fa.json';
import consoleMallUsersEn from '../../console/messages/mallUsers.en.json';
import consoleMallUsersFa from '../../console/messages/mallUsers.fa.json';
import consoleMallValueEn from '../../console/messages/mallValue.en.json';
import consoleMallValueFa from '../../console/messages/mallValue.fa.json';
import sharedEn from './en.json';
import sharedFa from './fa.json';

/** One catalogue per language: the shared messages and each face's, merged at the top. */
export const catalogues = {
  fa: { ...sharedFa, ...appFa, ...dashboardFa, ...consoleFa, ...dashboardMembersFa, ...dashboardMessagingFa, ...dashboardOffersFa, ...dashboardPolicyFa, ...dashboardShopNetworkFa, ...dashboardShopSettlementFa, ...dashboardStaffFa, ...dashboardTodayFa, ...consoleMallCampaignsFa, ...consoleMallLotteriesFa, ...consoleMallMessagesFa, ...consoleMallRelayedFa, ...consoleMallOverviewFa, ...consoleMallPartnershipsFa, ...consoleMallSettlementFa, ...consoleMallShopsFa, ...consoleMallUsersFa, ...consoleMallValueFa },
  en: { ...sharedEn, ...appEn, ...dashboardEn, ...consoleEn, ...dashboardMembersEn, ...dashboardMessagingEn, ...dashboardOffersEn, ...dashboardPolicyEn, ...dashboardShopNetworkEn, ...dashboardShopSettlementEn, ...dashboardStaffEn, ...dashboardTodayEn, ...consoleMallCampaignsEn, ...consoleMallLotteriesEn, ...consoleMallMessagesEn, ...consoleMallRelayedEn, ...consoleMallOverviewEn, ...consoleMallPartnershipsEn, ...consoleMallSettlementEn, ...consoleMallShopsEn, ...consoleMallUsersEn, ...consoleMallValueEn },
} as const;

export const LANGUAGES = ['fa', 'en'] as const;
export type Lang = (typeof LANGUAGES)[number];
export type Direction = 'rtl' | 'ltr';

export const resources = {
  fa: { translation: catalogues.fa },
  en: { translation: catalogues.en },
} as const;

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
