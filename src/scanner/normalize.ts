/**
 * One canonical form of a prompt before any matching, so obfuscation does not change the result:
 * Unicode NFKC (full-width and mathematical letters become ASCII), zero-width and bidi control
 * characters removed (they split keywords invisibly or reorder them on screen), look-alike letters
 * folded to ASCII, lower case, the dot above dropped where it follows a letter that already has
 * one (the Turkish capital `İ` lower-cases to `i` + U+0307), and runs of white space collapsed to
 * one space. The patterns and the classifier both see only this form.
 */
import { HOMOGLYPHS } from './homoglyphs'

/**
 * Invisible characters that attackers put inside keywords: zero-width space/joiners, word joiner,
 * BOM, soft hyphen, the bidi embeddings, overrides and isolates, Mongolian vowel separator and
 * the Unicode tag block (used to smuggle ASCII invisibly).
 */
const INVISIBLE =
  /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]|\udb40[\udc00-\udc7f]/g

/**
 * Every Unicode white-space run (including newlines) becomes a single ASCII space. Only runs that
 * are not already one space are matched (two or more white-space characters, or one that is not
 * a space): same result as replacing every `\s+` run, without rebuilding the string at each
 * ordinary word gap.
 */
const WHITE_SPACE = /\s\s+|[^\S ]/g

/**
 * A combining dot above (U+0307) after soft-dotted letters (`i`, `j`, Cyrillic `і`, ...), whose
 * own dot it repeats: `'İ'.toLowerCase()` is `i` + U+0307, so without this `İGNORE` would not
 * read as `ignore`. Runs go too, so stacking dots changes nothing. One character class and one
 * repeated code point that cannot overlap: linear.
 */
const DOT_ABOVE_AFTER_SOFT_DOTTED = /(\p{Soft_Dotted})\u0307+/gu

const ASCII_ONLY = /^\p{ASCII}*$/u

/** Whether every code unit of `text` is ASCII: then NFKC, invisible and look-alike steps are no-ops. */
export const isAscii = (text: string): boolean => ASCII_ONLY.test(text)

/** The canonical form of `text` used by patterns and the classifier. Linear in the input length. */
export function normalizeText(text: string): string {
  // ASCII is NFKC-stable and holds no invisible or look-alike characters: only case and spaces.
  if (isAscii(text)) return text.toLowerCase().replace(WHITE_SPACE, ' ').trim()
  const composed = text.normalize('NFKC').replace(INVISIBLE, '')
  let folded = ''
  let runStart = 0
  for (let index = 0; index < composed.length; index++) {
    const code = composed.charCodeAt(index)
    if (code < 0x80) continue
    const twin = HOMOGLYPHS.get(code)
    if (twin === undefined) continue
    folded += composed.slice(runStart, index) + twin
    runStart = index + 1
  }
  folded = runStart === 0 ? composed : folded + composed.slice(runStart)
  const lower = folded.toLowerCase()
  const undotted = lower.includes('\u0307') ? lower.replace(DOT_ABOVE_AFTER_SOFT_DOTTED, '$1') : lower
  return undotted.replace(WHITE_SPACE, ' ').trim()
}

/** Whether `text` holds characters that {@link normalizeText} strips as invisible. */
export function hasInvisibleCharacters(text: string): boolean {
  INVISIBLE.lastIndex = 0
  const found = INVISIBLE.test(text)
  INVISIBLE.lastIndex = 0
  return found
}
