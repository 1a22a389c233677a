/**
 * Overlapping findings were resolved by comparing each candidate with every span kept so far:
 * quadratic in the findings of a string. Each of the 14 detectors may report 1000 findings, so a
 * 280 KB prompt mixing emails, cards, ids and keys made about 10^8 comparisons and held the event
 * loop for about a second, and a request of a few such strings for several. The resolution is
 * now a merge per detector; the test counts the reads of span offsets (work done, not time) and
 * checks the kept spans against the first-come rule on random overlapping spans.
 */
import { DataClassifier } from 'continuum-proxy/classifier'
import { describe, expect, it } from 'vitest'
import type { Span } from '../../src/classifier/detectors'
import { keepNonOverlapping, type RankedSpans } from '../../src/classifier/non-overlapping'

/** The rule as it is specified: in rank order, left to right, keep what overlaps nothing kept. */
function reference(ranked: readonly RankedSpans<string>[]): Array<Span & { type: string }> {
  const kept: Array<Span & { type: string }> = []
  for (const { type, spans } of ranked) {
    for (const span of [...spans].sort((left, right) => left.start - right.start)) {
      if (kept.some((other) => span.start < other.end && other.start < span.end)) continue
      kept.push({ type, start: span.start, end: span.end })
    }
  }
  return kept.sort((left, right) => left.start - right.start)
}

function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/** Disjoint spans of one detector, as a global regular expression reports them. */
function detectorSpans(next: () => number, length: number): Span[] {
  const spans: Span[] = []
  for (let start = Math.floor(next() * 20); start < length; ) {
    const end = start + 1 + Math.floor(next() * 30)
    spans.push({ start, end })
    start = end + Math.floor(next() * 40)
  }
  return spans
}

describe('overlapping findings', () => {
  it('keep the same spans as the first-come rule', () => {
    const next = random(7)
    for (let round = 0; round < 300; round++) {
      const ranked = Array.from({ length: 1 + Math.floor(next() * 6) }, (_, rank) => ({
        type: `T${rank}`,
        spans: detectorSpans(next, 50 + Math.floor(next() * 400)),
      }))
      expect(keepNonOverlapping(ranked)).toEqual(reference(ranked))
    }
  })

  it('are resolved with work linear in the number of findings', () => {
    let reads = 0
    const counted = (start: number, end: number): Span => ({
      get start() {
        reads++
        return start
      },
      get end() {
        reads++
        return end
      },
    })
    // Six detectors of 500 interleaved findings each, none overlapping: all 3000 are kept.
    const ranked = Array.from({ length: 6 }, (_, rank) => ({
      type: `T${rank}`,
      spans: Array.from({ length: 500 }, (_, index) =>
        counted((index * 6 + rank) * 10, (index * 6 + rank) * 10 + 5),
      ),
    }))
    expect(keepNonOverlapping(ranked)).toHaveLength(3000)
    // A merge reads each kept offset a few times per detector; comparing with every kept span
    // read about 3000 * 3000.
    expect(reads).toBeLessThanOrEqual(30 * 3000)
  })

  it('leave what a prompt full of mixed findings reports unchanged', () => {
    const classifier = new DataClassifier()
    const units = ['a@b.io', '4111 1111 1111 1111', 'AKIAIOSFODNN7EXAMPLE', '+44 20 7946 0958', 'AB123456C']
    const text = Array.from({ length: 200 }, () => units.join(' , ')).join(' ; ')
    const findings = classifier.inspect(text).findings
    expect(findings).toHaveLength(1000)
    expect(new Set(findings.map((finding) => finding.type))).toEqual(
      new Set(['EMAIL', 'CREDIT_CARD', 'AWS_ACCESS_KEY', 'PHONE', 'UK_NINO']),
    )
    for (let index = 1; index < findings.length; index++)
      expect(findings[index]!.start).toBeGreaterThanOrEqual(findings[index - 1]!.end)
  })
})
