/**
 * The PEM private-key detector reuses one END-marker search for every BEGIN line before that
 * marker (a search per line read the rest of a 1 MB text of unterminated BEGIN lines each
 * time). Its spans must be those of searching afresh from every BEGIN line: the reference
 * below does that, and both are compared on generated texts mixing BEGIN lines, END markers with
 * and without their closing dashes, and key bodies. (It sits with the scanner's tests because
 * linear-time.test.ts, which feeds both 1 MB hostile inputs, does.)
 */
import { describe, expect, it } from 'vitest'
import { DataClassifier } from '../../src/classifier'

/** The detector's spans found by searching for the END marker again from every BEGIN line. */
function referenceSpans(text: string): Array<[number, number]> {
  const spans: Array<[number, number]> = []
  const begin = /-----BEGIN (?:[A-Z0-9]{1,12} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g
  for (let match = begin.exec(text); match !== null; match = begin.exec(text)) {
    const endMarker = text.indexOf('-----END ', match.index + match[0].length)
    const endLine = endMarker < 0 ? -1 : text.indexOf('-----', endMarker + 9)
    const end = endLine < 0 ? match.index + match[0].length : endLine + 5
    spans.push([match.index, end])
    begin.lastIndex = end
  }
  return spans
}

const PIECES = [
  '-----BEGIN RSA PRIVATE KEY-----',
  '-----BEGIN PRIVATE KEY-----',
  '-----END RSA PRIVATE KEY-----',
  '-----END ',
  '-----',
  'MIIEowIBAAKCAQEA7x',
  '\n',
  'notes ',
]

describe('PEM private-key spans', () => {
  it('are those of a fresh END search from every BEGIN line', () => {
    const classifier = new DataClassifier()
    let state = 11
    const next = (): number => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0
      return state / 2 ** 32
    }
    let withKeys = 0
    for (let round = 0; round < 3000; round++) {
      let text = ''
      const pieces = 1 + Math.floor(next() * 14)
      for (let piece = 0; piece < pieces; piece++) text += PIECES[Math.floor(next() * PIECES.length)]
      const found = classifier
        .inspect(text)
        .findings.filter((finding) => finding.type === 'PRIVATE_KEY')
        .map((finding): [number, number] => [finding.start, finding.end])
      const expected = referenceSpans(text)
      if (expected.length > 1) withKeys++
      expect(found, JSON.stringify(text)).toEqual(expected)
    }
    // The texts that exercise the reuse: several BEGIN lines in one text.
    expect(withKeys).toBeGreaterThan(300)
  })
})
