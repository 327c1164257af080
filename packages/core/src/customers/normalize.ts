/**
 * Normalisation for customer search, the same at write time and at query time:
 * - NFKC: full-width and half-width letters, digits and kana are the same characters;
 * - Latin case-folded;
 * - katakana folded to hiragana, small kana to their full-size letters (ァ → あ, ッ → つ);
 * - long vowel marks (ー, ｰ, 〜) and every space, dot and hyphen dropped, so 「サトウ　ユーコ」,
 *   「さとうゆうこ」 and "sato yuko" compare by their letters alone.
 */
const SMALL_KANA: Record<string, string> = {
  ぁ: 'あ',
  ぃ: 'い',
  ぅ: 'う',
  ぇ: 'え',
  ぉ: 'お',
  っ: 'つ',
  ゃ: 'や',
  ゅ: 'ゆ',
  ょ: 'よ',
  ゎ: 'わ',
  ゕ: 'か',
  ゖ: 'け',
};

const DROPPED = /[\s\u3000・･.\-‐‑–—―ー〜~_'’]/gu;

export function normalizeSearchText(text: string | null | undefined): string {
  if (!text) return '';
  let out = '';
  for (const ch of text.normalize('NFKC').toLowerCase().replace(DROPPED, '')) {
    const code = ch.codePointAt(0)!;
    // Katakana ァ (U+30A1) .. ヶ (U+30F6) sit 0x60 above their hiragana.
    const hira = code >= 0x30a1 && code <= 0x30f6 ? String.fromCodePoint(code - 0x60) : ch;
    out += SMALL_KANA[hira] ?? hira;
  }
  return out;
}

/** The digits of a phone number or fragment ("+81 90-1234-5678" → "819012345678"). */
export function phoneDigits(text: string | null | undefined): string {
  return (text ?? '').normalize('NFKC').replace(/\D/g, '');
}

/**
 * Where `needle` (already normalised) occurs in `value` once both are normalised by `normalize`,
 * as offsets into the original `value`; null when it cannot be placed.
 */
export function highlight(value: string, needle: string, normalize: (s: string) => string): { start: number; end: number } | null {
  if (!value || !needle) return null;
  let normalized = '';
  const origin: number[] = [];
  let offset = 0;
  for (const ch of value) {
    const n = normalize(ch);
    for (let i = 0; i < n.length; i++) origin.push(offset);
    normalized += n;
    offset += ch.length;
  }
  origin.push(offset);
  const at = normalized.indexOf(needle);
  if (at < 0) return null;
  const endChar = origin[at + needle.length - 1]!;
  const end = endChar + (value.codePointAt(endChar)! > 0xffff ? 2 : 1);
  return { start: origin[at]!, end };
}
