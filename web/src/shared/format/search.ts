/**
 * Search as people expect it in Persian: Arabic Yeh (ي) and Kaf (ك), which Arabic
 * keyboards and old data carry, match Persian ی and ک; a zero-width non-joiner matches a
 * space or nothing («کتاب‌سرا», «کتاب سرا», «کتابسرا»); diacritics and tatweel are
 * ignored; digits of any script match; Latin letters ignore case.
 */
import { normalizeDigits } from './digits';

const LETTERS: Record<string, string> = {
  '\u064a': '\u06cc', // ي → ی
  '\u0649': '\u06cc', // ى → ی
  '\u0643': '\u06a9', // ك → ک
  '\u0629': '\u0647', // ة → ه
  '\u0623': '\u0627', // أ → ا
  '\u0625': '\u0627', // إ → ا
};
const MARKS = /[\u064b-\u065f\u0670\u0640]/g; // harakat, superscript alef, tatweel
const SPACES = /[\s\u200c\u200f\u200e]+/g; // spaces, ZWNJ and direction marks

/** The text as compared by search: one form per letter, one space between words. */
export function normalizeForSearch(text: string): string {
  return normalizeDigits(text.normalize('NFC'))
    .replace(/[\u064a\u0649\u0643\u0629\u0623\u0625]/g, (letter) => LETTERS[letter] ?? letter)
    .replace(MARKS, '')
    .replace(SPACES, ' ')
    .trim()
    .toLowerCase();
}

/** Whether `query` is found in `text` (spaces and ZWNJs not counted on either side). */
export function matchesSearch(text: string, query: string): boolean {
  const compact = (value: string) => normalizeForSearch(value).replace(/ /g, '');
  return compact(text).includes(compact(query));
}
