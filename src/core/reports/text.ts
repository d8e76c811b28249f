/**
 * The PDF's standard fonts (Helvetica, Courier) encode WinAnsi (Windows-1252) only. Text outside it (a patient's
 * name in Cyrillic or Greek, a Polish "ł") is transliterated here rather than embedding a font: accents that WinAnsi
 * lacks are dropped ("ő" -> "o"), Greek and Cyrillic letters are spelt in Latin, and anything else becomes "?". The
 * report says when a text was changed, so a clinician never mistakes the spelling for the record's.
 */

/** The 27 characters Windows-1252 puts in 0x80-0x9f; with Latin-1 (0x20-0x7e, 0xa0-0xff) they are all of WinAnsi. */
const CP1252_EXTRA = '€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ'

export const inWinAnsi = (char: string): boolean => {
  const code = char.codePointAt(0)!
  return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || CP1252_EXTRA.includes(char)
}

/** Letters with no decomposition into a base letter and an accent. */
const LATIN: Record<string, string> = { ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', ħ: 'h', Ħ: 'H', ı: 'i', ŀ: 'l', Ŀ: 'L' }
// ISO 9-like, one Latin spelling per letter (lower case; upper case capitalises it)
const CYRILLIC =
  'а a б b в v г g д d е e ё e ж zh з z и i й i к k л l м m н n о o п p р r с s т t у u ф f х kh ц ts ч ch ш sh щ shch ъ  ы y ь  э e ю yu я ya і i ї yi є ye ґ g'
const GREEK = 'α a β b γ g δ d ε e ζ z η i θ th ι i κ k λ l μ m ν n ξ x ο o π p ρ r σ s ς s τ t υ y φ f χ ch ψ ps ω o'
const LETTERS = new Map<string, string>(
  [CYRILLIC, GREEK].flatMap((table) => {
    const words = table.split(' ')
    return Array.from({ length: words.length / 2 }, (_, i) => [words[2 * i]!, words[2 * i + 1]!] as [string, string])
  }),
)
/** typography the fonts lack, and white space that would print as a box */
const PUNCTUATION: Record<string, string> = {
  '‐': '-',
  '‑': '-',
  '−': '-',
  '′': "'",
  '″': '"',
  '\t': ' ',
  '\u00a0': ' ',
}

function transliterate(char: string): string {
  if (PUNCTUATION[char] !== undefined) return PUNCTUATION[char]
  if (inWinAnsi(char)) return char
  if (LATIN[char]) return LATIN[char]
  const lower = char.toLowerCase()
  const spelt = LETTERS.get(lower) ?? LETTERS.get(lower.normalize('NFD').replace(/\p{M}/gu, ''))
  if (spelt !== undefined) return char === lower ? spelt : spelt.charAt(0).toUpperCase() + spelt.slice(1)
  const base = char.normalize('NFKD').replace(/\p{M}/gu, '')
  if (base !== '' && [...base].every(inWinAnsi)) return base
  return '?'
}

/**
 * One line of text the standard fonts can print (line breaks and other control characters become spaces);
 * `changed`: a letter was transliterated or replaced (typography such as a minus sign does not count).
 */
export function winAnsi(text: string): { text: string; changed: boolean } {
  let out = ''
  let changed = false
  for (const char of text.replace(/[\p{Cc}\u2028\u2029]/gu, ' ')) {
    const printed = transliterate(char)
    changed ||= printed !== char && PUNCTUATION[char] === undefined
    out += printed
  }
  return { text: out, changed }
}
