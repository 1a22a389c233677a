/**
 * Chunking (src/scanner/segments.ts): chunks tile the text exactly, none is longer than the
 * limit, cuts fall at line and sentence ends when there are any, then at white space, and a
 * run with no white space is cut hard but never between the halves of a surrogate pair.
 */
import { describe, expect, it } from 'vitest'
import { chunkSpans } from '../../src/scanner/segments'

function spans(text: string, maxChunk: number): Array<[number, number]> {
  const cut = chunkSpans(text, maxChunk)
  return Array.from({ length: cut.count }, (_, index) => [cut.starts[index]!, cut.ends[index]!])
}

function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const PIECES = ['word ', 'Sentence ends. ', 'line\n', 'x', '😀', '。', '  ', 'Why? ', 'a;b ', '\t']

describe('chunkSpans', () => {
  it('tiles every generated text with chunks no longer than the limit', () => {
    const next = random(3)
    for (let round = 0; round < 2000; round++) {
      let text = ''
      const pieces = Math.floor(next() * 200)
      for (let piece = 0; piece < pieces; piece++) text += PIECES[Math.floor(next() * PIECES.length)]
      const maxChunk = 16 + Math.floor(next() * 100)
      const found = spans(text, maxChunk)
      expect(found[0]![0]).toBe(0)
      expect(found[found.length - 1]![1]).toBe(text.length)
      found.forEach(([start, end], index) => {
        expect(end - start).toBeLessThanOrEqual(maxChunk)
        if (index > 0) expect(start).toBe(found[index - 1]![1])
        const code = text.charCodeAt(end - 1)
        // A chunk never ends on the first half of a surrogate pair.
        if (end < text.length) expect(code >= 0xd800 && code <= 0xdbff).toBe(false)
      })
    }
  })

  it('cuts at sentence and line ends first, then at white space, then hard', () => {
    const text = 'First sentence here. Second one is a bit longer! Third?\nA line without end'
    expect(spans(text, 30).map(([start, end]) => text.slice(start, end))).toEqual([
      'First sentence here. ',
      'Second one is a bit longer! ',
      'Third?\nA line without end',
    ])
    expect(spans('alpha beta gamma delta', 12).map(([start, end]) => end - start)).toEqual([11, 11])
    expect(spans('x'.repeat(25), 10)).toEqual([
      [0, 10],
      [10, 20],
      [20, 25],
    ])
    expect(spans('', 10)).toEqual([[0, 0]])
    expect(spans('short', 256)).toEqual([[0, 5]])
  })
})
