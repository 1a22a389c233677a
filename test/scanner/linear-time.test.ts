/**
 * Hostile inputs must not hang the scanner or the classifier: every pattern family and signal
 * keyword list uses bounded repetition only, and 1 MB adversarial strings (long runs that almost
 * match, a million-unit word with no place to cut a chunk, floods of tiny sentences, odd tokens and
 * CJK keywords) finish within the test timeout. No timing assertion: completing at all is the
 * property.
 */
import { describe, expect, it } from 'vitest'
import { DataClassifier } from '../../src/classifier'
import { PATTERN_FAMILIES, PromptScanner } from '../../src/scanner'
import { SIGNAL_PATTERNS } from '../../src/scanner/signals'

const MB = 1024 * 1024
const fill = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB)

const ADVERSARIAL = [
  fill('a'),
  fill('ignore '),
  fill('ignore all '),
  fill('ignore all previous '),
  fill('you are no longer '),
  fill('<|im_'),
  fill('A'),
  fill('4'),
  fill('4111 '),
  fill('a@'),
  fill('a.'),
  fill('%41'),
  fill('0f'),
  fill('+1 555 '),
  fill('-----BEGIN RSA PRIVATE KEY-----'),
  fill('sk-'),
  fill('GB82 '),
  fill('\u200b'),
  fill('і'),
  fill('a. '),
  fill('\n'),
  fill('[ ! '),
  fill('similarlyNow]( '),
  fill('ignora todas las '),
  fill('忽略之前的'),
  fill('tali̇matlari '),
  fill('repeat the exact initial '),
  fill('imagine a story '),
]

describe('linear-time patterns', () => {
  it('pattern families and signal keywords use only bounded repetition', () => {
    const sources = [
      ...PATTERN_FAMILIES.map((family) => [family.name, family.pattern.source]),
      ...SIGNAL_PATTERNS.map((pattern, index) => [`signal ${index}`, pattern.source]),
    ]
    for (const [name, source] of sources) {
      // An unescaped * or +, or an open-ended {n,}, could backtrack without bound.
      expect(source, name).not.toMatch(/(?<!\\)[*+]|\{\d+,\}/)
    }
  })

  it('scanner and classifier finish on 1 MB adversarial inputs', { timeout: 120_000 }, () => {
    const scanner = new PromptScanner()
    const classifier = new DataClassifier()
    for (const input of ADVERSARIAL) {
      const result = scanner.scan(input)
      if (result.location !== undefined) expect(result.location.end).toBeLessThanOrEqual(input.length)
      expect(result.score).toBeGreaterThanOrEqual(0)
      expect(result.score).toBeLessThanOrEqual(1)
      expect(classifier.inspect(input).findings.length).toBeLessThanOrEqual(14_000)
    }
  })
})
