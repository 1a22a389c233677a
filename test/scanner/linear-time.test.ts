/**
 * Hostile inputs must not hang the scanner or the classifier: every pattern family uses bounded
 * repetition only, and 1 MB adversarial strings (long runs that almost match) finish within the
 * test timeout. No timing assertion: completing at all is the property.
 */

import { DataClassifier } from 'continuum-proxy/classifier'
import { PATTERN_FAMILIES, PromptScanner } from 'continuum-proxy/scanner'
import { describe, expect, it } from 'vitest'

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
]

describe('linear-time patterns', () => {
  it('pattern families use only bounded repetition', () => {
    for (const family of PATTERN_FAMILIES) {
      // An unescaped * or +, or an open-ended {n,}, could backtrack without bound.
      expect(family.pattern.source, family.name).not.toMatch(/(?<!\\)[*+]|\{\d+,\}/)
    }
  })

  it('scanner and classifier finish on 1 MB adversarial inputs', { timeout: 120_000 }, () => {
    const scanner = new PromptScanner()
    const classifier = new DataClassifier()
    for (const input of ADVERSARIAL) {
      const result = scanner.scan(input)
      expect(result.score).toBeGreaterThanOrEqual(0)
      expect(result.score).toBeLessThanOrEqual(1)
      expect(classifier.inspect(input).findings.length).toBeLessThanOrEqual(14_000)
    }
  })
})
