import { AdapterRegistry } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { describe, expect, it } from 'vitest'
import { MAX_RESPONSE_DEPTH, StreamEventDecoder } from '../../src/proxy/stream-events'
import { isJsonObjectText } from '../../src/streams/json-object-check'

/** What the check must agree with: JSON.parse gives a plain object nested at most `maxDepth`. */
function parsesToObject(text: string, maxDepth: number): boolean {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return false
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const depth = (node: unknown): number =>
    typeof node !== 'object' || node === null ? 0 : 1 + Math.max(0, ...Object.values(node).map(depth))
  return depth(value) <= maxDepth
}

/** A deterministic generator, so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

const PIECES = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  '\\',
  'u',
  '0',
  '1',
  '-',
  '.',
  'e',
  'E',
  '+',
  ' ',
  '\n',
  '\t',
  'a',
  'true',
  'false',
  'null',
  'nul',
  '\u0001',
  'é',
  '\ud83d',
  '\\u00e9',
  '\\x',
  '"k"',
]

function scalar(next: () => number): unknown {
  const choice = Math.floor(next() * 6)
  if (choice === 0) return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20)
  if (choice === 1) return Math.floor(next() * 1000)
  if (choice === 2) return next() < 0.5
  if (choice === 3) return null
  return ['', 'token ', 'quote " and \\ back', 'line\nbreak', '\u0000\u001f control', 'é 😀', '\ud800 lone'][
    Math.floor(next() * 7)
  ]
}

function value(next: () => number, depth: number): unknown {
  if (depth <= 0 || next() < 0.35) return scalar(next)
  const size = Math.floor(next() * 4)
  if (next() < 0.5) return Array.from({ length: size }, () => value(next, depth - 1))
  return Object.fromEntries(Array.from({ length: size }, (_, index) => [`k${index}`, value(next, depth - 1)]))
}

/** JSON text of a random object, with random whitespace between tokens. */
function objectText(next: () => number): string {
  const text = JSON.stringify(
    Object.fromEntries([
      ['id', value(next, 5)],
      ['choices', value(next, 5)],
    ]),
  )
  if (next() < 0.5) return text
  return text.replace(/[,:{}[\]]/g, (token) => (next() < 0.3 ? ` ${token}\n\t` : token))
}

function mutate(text: string, next: () => number): string {
  const at = Math.floor(next() * (text.length + 1))
  const piece = PIECES[Math.floor(next() * PIECES.length)]!
  const cut = Math.floor(next() * 3)
  return text.slice(0, at) + piece + text.slice(at + cut)
}

describe('isJsonObjectText', () => {
  it('answers true only for a JSON object within the depth bound, and for every such object generated', () => {
    const next = random(11)
    for (let round = 0; round < 3000; round++) {
      const text = objectText(next)
      expect(isJsonObjectText(text, MAX_RESPONSE_DEPTH), text).toBe(true)
      for (let mutation = 0; mutation < 4; mutation++) {
        const mutated = mutate(text, next)
        if (isJsonObjectText(mutated, MAX_RESPONSE_DEPTH))
          expect(parsesToObject(mutated, MAX_RESPONSE_DEPTH), mutated).toBe(true)
      }
    }
  })

  it('refuses what JSON.parse refuses or does not make an object of', () => {
    for (const text of [
      '',
      ' ',
      '[]',
      '"{}"',
      '1',
      'null',
      '{',
      '{}}',
      '{} {}',
      '{"a":1,}',
      '{"a":[1,]}',
      '{"a" 1}',
      '{a:1}',
      "{'a':1}",
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":1e}',
      '{"a":+1}',
      '{"a":-}',
      '{"a":NaN}',
      '{"a":"\\x"}',
      '{"a":"\\u12g4"}',
      '{"a":"tab\there"}',
      '{"a":tru}',
      '{"a":True}',
      '{"a":[}',
      '{"a":{]}',
      '\u00a0{}',
    ]) {
      expect(parsesToObject(text, MAX_RESPONSE_DEPTH), text).toBe(false)
      expect(isJsonObjectText(text, MAX_RESPONSE_DEPTH), text).toBe(false)
    }
  })

  it('takes what JSON.parse takes: whitespace, escapes, lone surrogates, duplicate names, exponents', () => {
    for (const text of [
      '{}',
      ' \t\r\n{ } \n',
      '{"a":"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00E9"}',
      '{"a":"\ud800"}',
      '{"a":1,"a":2}',
      '{"a":-0.5e+10,"b":1E-7,"c":0,"d":-0}',
      '{"__proto__":{"x":[true,false,null,[],{}]}}',
    ]) {
      expect(parsesToObject(text, MAX_RESPONSE_DEPTH), text).toBe(true)
      expect(isJsonObjectText(text, MAX_RESPONSE_DEPTH), text).toBe(true)
    }
  })

  it('counts depth as the parser nests it: {} is 1, and brackets in strings do not count', () => {
    const nested = (depth: number): string => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`
    expect(isJsonObjectText(nested(3), 3)).toBe(true)
    expect(isJsonObjectText(nested(4), 3)).toBe(false)
    expect(isJsonObjectText(`{"a":${'['.repeat(2)}${']'.repeat(2)}}`, 3)).toBe(true)
    expect(isJsonObjectText(`{"a":${'['.repeat(3)}${']'.repeat(3)}}`, 3)).toBe(false)
    expect(isJsonObjectText(`{"a":"${'['.repeat(50)}"}`, 3)).toBe(true)
    expect(isJsonObjectText(nested(MAX_RESPONSE_DEPTH + 1), MAX_RESPONSE_DEPTH)).toBe(false)
  })
})

describe('the stream decoder that builds objects on demand', () => {
  const lookup = new AdapterRegistry(builtinAdapters()).lookup('POST', '/v1/chat/completions')
  if (lookup.kind !== 'match') throw new Error('no chat route')
  const stream = lookup.match.route.stream!
  const encoder = new TextEncoder()

  function decode(text: string, lazy: boolean): unknown {
    const decoder = new StreamEventDecoder(stream, { lazy })
    try {
      const events = [...decoder.push(encoder.encode(text)), ...decoder.end()]
      return events.map((event) => ({ data: event.data, name: event.name, text: event.text }))
    } catch (error) {
      return { code: (error as { code?: string }).code, message: (error as Error).message }
    }
  }

  it('gives the same events, objects and errors as the eager decoder', () => {
    const deep = `${'{"a":'.repeat(MAX_RESPONSE_DEPTH)}{}${'}'.repeat(MAX_RESPONSE_DEPTH)}`
    for (const text of [
      'data: {"a":1}\n\nevent: named\ndata: {"b":\n data: [2]}\n\ndata: [DONE]\n\n',
      'data: [1]\n\ndata: [DONE]\n\n',
      'data: "text"\n\ndata: [DONE]\n\n',
      'data: not json\n\ndata: [DONE]\n\n',
      'data: {"a":1,}\n\ndata: [DONE]\n\n',
      `data: ${deep}\n\ndata: [DONE]\n\n`,
      `data: ${deep.slice(0, -1)}\n\ndata: [DONE]\n\n`,
      'data: {"a":1}\n\n',
    ]) {
      const eager = decode(text, false)
      expect(decode(text, true), text).toEqual(eager)
    }
  })
})
