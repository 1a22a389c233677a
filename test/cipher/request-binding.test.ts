/**
 * The request binding's header rules (docs/PROTOCOL.md §5) as plain functions: which names a
 * client lists and in what order, and how values are trimmed. Client and server compute the seal
 * metadata from these, so an order or a trim that differed between them would fail every
 * request, and one that differed from the specification would fail every other implementation.
 */
import { describe, expect, it } from 'vitest'
import { bindRequest, parseSealedHeaderList, sealedHeaderBlock, sealedHeaderList } from '../../src/cipher'

/** The specification's wording, spelled as directly as possible: lower-case, sealable, unique, sorted. */
function specified(names: readonly string[]): string[] {
  const lower = [...new Set(names.map((name) => name.toLowerCase()))]
  const sealable = lower.filter((name) => {
    try {
      parseSealedHeaderList(name)
      return true
    } catch {
      return false
    }
  })
  return sealable.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** A deterministic generator, so a failure names its seed. */
function generator(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
}

const POOL = [
  'Accept',
  'accept',
  'ACCEPT',
  'content-type',
  'Content-Type',
  'authorization',
  'x-api-key',
  'X-Continuum-Seal',
  'x-continuum-key-id',
  'host',
  'Content-Length',
  'connection',
  'a-b',
  'a_b',
  'a.b',
  'a',
  'ab',
  'z',
  '~tilde',
  "it's",
  'bad name',
  'cache-control',
  'pragma',
]

describe('sealedHeaderList', () => {
  it('lists each sealable name once, lower-cased, in UTF-16 code-unit order', () => {
    expect(
      sealedHeaderList(['User-Agent', 'accept', 'Accept', 'HOST', 'X-Continuum-Nonce', 'authorization']),
    ).toEqual(['accept', 'authorization', 'user-agent'])
    expect(sealedHeaderList(['b', 'a_b', 'a-b', 'A.B', 'a'])).toEqual(['a', 'a-b', 'a.b', 'a_b', 'b'])
    expect(sealedHeaderList([])).toEqual([])
  })

  it('agrees with the specified rule on 500 random header sets', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const random = generator(seed)
      const names = Array.from(
        { length: Math.floor(random() * 12) },
        () => POOL[Math.floor(random() * POOL.length)]!,
      )
      expect(sealedHeaderList(names), `seed ${seed}: ${names.join(',')}`).toEqual(specified(names))
    }
  })

  it('gives a list the server accepts back unchanged', () => {
    const list = sealedHeaderList(POOL)
    expect(parseSealedHeaderList(list.join(','))).toEqual(list)
  })
})

describe('sealedHeaderBlock', () => {
  it('trims spaces and tabs off both ends only, and marks a listed header that is absent', () => {
    const values: Record<string, string> = {
      a: '  x y ',
      b: '\tv\t',
      c: 'plain',
      d: '',
      e: ' ',
      f: 'in\tside',
    }
    expect(sealedHeaderBlock(['a', 'b', 'c', 'd', 'e', 'f', 'g'], (name) => values[name])).toBe(
      'a:x y\nb:v\nc:plain\nd:\ne:\nf:in\tside\ng\n',
    )
  })
})

describe('bindRequest', () => {
  it('seals the last value of a name given twice in different cases, under its lower-case name', () => {
    const bound = bindRequest({
      method: 'post',
      routePath: '/v1/chat/completions',
      search: '?b=2&a=1',
      timestamp: '1700000000000',
      headers: { Accept: 'text/plain', accept: ' application/json ', Host: 'example.com' },
    })
    expect(bound.sealedHeaders).toBe('accept')
    expect(bound.meta).toBe('POST /v1/chat/completions\nb=2&a=1\n1700000000000\naccept:application/json\n')
  })
})
