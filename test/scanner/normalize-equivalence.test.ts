/**
 * The normaliser's ASCII shortcut and its narrower white-space pattern must give exactly what
 * the original pipeline gave (NFKC, invisible characters, look-alikes, lower case, the dot above
 * after a soft-dotted letter, every `\s+` run to one space, trim). The original is inlined here
 * as the reference and both run over the training set and generated strings heavy in white
 * space, case and non-ASCII edge cases; the ROT13 shortcut (rotate the normalised ASCII text)
 * is checked against the same reference.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadTrainingData } from '../../scripts/scanner-data'
import { normalizeText } from '../../src/scanner'
import { rot13 } from '../../src/scanner/decode-payloads'
import { HOMOGLYPHS } from '../../src/scanner/homoglyphs'
import { isAscii } from '../../src/scanner/normalize'

const dataUrl = new URL('../../../shared/data/prompt-injection/', import.meta.url)
const hasData =
  existsSync(new URL('train.jsonl', dataUrl)) && existsSync(new URL('train-extra.jsonl', dataUrl))

const INVISIBLE =
  /[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]|\udb40[\udc00-\udc7f]/g

function referenceNormalize(text: string): string {
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
  return folded
    .toLowerCase()
    .replace(/(\p{Soft_Dotted})\u0307+/gu, '$1')
    .replace(/\s+/g, ' ')
    .trim()
}

const PIECES = [' ', '  ', '\t', '\n', '\r\n', '\v', '\f', '\u00a0', '\u2003', '\u3000', '\u2028', '\ufeff']
const WORDS = [
  'Ignore',
  'ALL',
  'previous',
  'İ',
  '\u0307',
  'ɪ',
  'Ɪ',
  'K',
  'ﬁ',
  'ａｂ',
  'о',
  'ß',
  'x',
  '42',
  '%41',
  'Vtaber',
]

function generated(count: number): string[] {
  let state = 99
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
  const texts = ['', ' ', '\n', 'a', ' a ', '\t\ta\t\t']
  while (texts.length < count) {
    let text = ''
    for (let piece = Math.floor(next() * 30); piece > 0; piece--) {
      const roll = next()
      if (roll < 0.4) text += PIECES[Math.floor(next() * PIECES.length)]
      else if (roll < 0.5) text += String.fromCharCode(Math.floor(next() * 128))
      else if (roll < 0.55) text += String.fromCharCode(Math.floor(next() * 0x10000))
      else text += WORDS[Math.floor(next() * WORDS.length)]
    }
    texts.push(text)
  }
  return texts
}

function expectSameNormalisation(texts: readonly string[]): void {
  for (const text of texts) {
    const expected = referenceNormalize(text)
    if (normalizeText(text) !== expected) expect(normalizeText(text), JSON.stringify(text)).toBe(expected)
    if (isAscii(text) && rot13(expected) !== referenceNormalize(rot13(text))) {
      expect(rot13(expected), JSON.stringify(text)).toBe(referenceNormalize(rot13(text)))
    }
  }
}

describe('normalisation shortcuts', () => {
  it('match the original pipeline on generated strings', () => {
    expectSameNormalisation(generated(5000))
  })

  it.skipIf(!hasData)('match the original pipeline on the training set', () => {
    const texts = loadTrainingData(fileURLToPath(dataUrl)).map((row) => row.text)
    expectSameNormalisation(texts)
    expectSameNormalisation(texts.map((text) => text.toUpperCase()))
  })
})
