/**
 * A rough language guess for the evaluation tables only (the scanner never needs one): the
 * script decides for Arabic, Bengali, Chinese, Devanagari (Hindi), Japanese, Korean, Cyrillic
 * (Russian) and Thai; Latin-script text goes to whichever language's common short words it uses
 * most. Good enough to split the multilingual injections and deepset's English and German rows.
 */

const SCRIPTS: ReadonlyArray<readonly [language: string, pattern: RegExp]> = [
  ['Japanese', /[\u3040-\u30ff]/u],
  ['Korean', /[\uac00-\ud7af]/u],
  ['Chinese', /[\u4e00-\u9fff]/u],
  ['Arabic', /[\u0600-\u06ff]/u],
  ['Bengali', /[\u0980-\u09ff]/u],
  ['Hindi', /[\u0900-\u097f]/u],
  ['Thai', /[\u0e00-\u0e7f]/u],
  ['Russian', /[\u0400-\u04ff]/u],
]

const STOPWORDS: Readonly<Record<string, readonly string[]>> = {
  English: ['the', 'and', 'of', 'to', 'is', 'in', 'what', 'you', 'this', 'for', 'are', 'with'],
  German: [
    'der',
    'die',
    'das',
    'und',
    'ist',
    'nicht',
    'ich',
    'sie',
    'mit',
    'für',
    'ein',
    'eine',
    'wie',
    'was',
  ],
  French: ['le', 'la', 'les', 'et', 'est', 'des', 'une', 'pour', 'dans', 'que', 'quelle', 'cette', 'du'],
  Spanish: [
    'el',
    'los',
    'las',
    'es',
    'una',
    'para',
    'por',
    'que',
    'cuál',
    'cuáles',
    'este',
    'esta',
    'con',
    'del',
  ],
  Italian: ['il', 'gli', 'della', 'delle', 'è', 'una', 'per', 'che', 'qual', 'questa', 'questo', 'di', 'con'],
  Portuguese: [
    'os',
    'as',
    'é',
    'uma',
    'para',
    'que',
    'qual',
    'quais',
    'são',
    'este',
    'esta',
    'com',
    'do',
    'da',
  ],
  Indonesian: ['yang', 'dan', 'ini', 'apa', 'dari', 'untuk', 'dengan', 'adalah', 'berdasarkan', 'semua'],
  Tagalog: ['ang', 'ng', 'sa', 'mga', 'na', 'ito', 'ano', 'batay', 'lahat', 'para'],
  Turkish: ['bu', 've', 'bir', 'için', 'ne', 'göre', 'nedir', 'tüm', 'ile', 'olan'],
  Vietnamese: ['của', 'và', 'là', 'này', 'những', 'các', 'cho', 'với', 'được', 'một', 'trên'],
}

/** The guessed language of `text`. */
export function guessLanguage(text: string): string {
  for (const [language, pattern] of SCRIPTS) if (pattern.test(text)) return language
  const words = text.toLowerCase().split(/[^\p{L}]+/u)
  let best = 'English'
  let bestCount = 0
  for (const [language, list] of Object.entries(STOPWORDS)) {
    const known = new Set(list)
    const count = words.filter((word) => known.has(word)).length
    if (count > bestCount) {
      best = language
      bestCount = count
    }
  }
  return best
}
