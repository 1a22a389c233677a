import { randomBytes } from 'node:crypto'
import { AdapterRegistry } from 'continuum-proxy'
import { builtinAdapters } from 'continuum-proxy/adapters'
import { describe, expect, it } from 'vitest'
import { createFieldKey } from '../../src/cipher'
import { sealBatch } from '../../src/cipher/stream-batch'
import { openStream } from '../../src/client/stream-opener'
import { parseBatchFrame } from '../../src/client/web-crypto/batch'
import {
  type CryptoBackend,
  defaultBackend,
  deriveFieldKey,
  webCryptoBackend,
} from '../../src/client/web-crypto/index'
import { FrameWriter } from '../../src/proxy/frame-writer'

// The client reads a frame in the server's own spelling without JSON.parse, and opens it without
// a promise on node:crypto; these check both give what the general path gives, and refuse alike.

const lookup = new AdapterRegistry(builtinAdapters()).lookup('POST', '/v1/chat/completions')
if (lookup.kind !== 'match') throw new Error('no chat route')
const stream = lookup.match.route.stream!
const fieldKey = createFieldKey('reading', randomBytes(32))
const nonce = 'oKGio6SlpqeoqaqrrK2urw'
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const event = (index: number): string => `data: {"choices":[{"delta":{"content":"token ${index}"}}]}\n\n`

function frame(first: number, events: number): string {
  let plain = ''
  for (let index = first; index < first + events; index++) plain += event(index)
  return sealBatch({ key: fieldKey, nonce, direction: 'response' }, first, events, plain)
}

/** The end marker and [DONE] after `count` events, as the server writes them. */
function tail(count: number): string {
  const writer = new FrameWriter(stream, { key: fieldKey, nonce, direction: 'response' }, true, undefined)
  for (let index = 0; index < count; index++) writer.event({ data: { choices: [] } })
  return writer.tail()
}

async function open(backend: CryptoBackend, chunks: readonly string[]): Promise<string> {
  const key = await deriveFieldKey(backend, fieldKey.id, fieldKey.aesKey)
  const source = (async function* () {
    for (const chunk of chunks) yield encoder.encode(chunk)
  })()
  let text = ''
  for await (const part of openStream(
    source,
    stream,
    { key, nonce, direction: 'response' },
    { batches: true },
  ))
    text += decoder.decode(part)
  return text
}

const backends: [string, CryptoBackend][] = [
  ['node:crypto (synchronous)', defaultBackend()],
  ['WebCrypto (promised)', webCryptoBackend],
]

describe('batch frames as the client reads them', () => {
  it('reads the server spelling into the very object JSON.parse makes', () => {
    const text = frame(7, 3)
    expect(parseBatchFrame(text)).toEqual(JSON.parse(text))
  })

  it('leaves every other spelling to JSON.parse, and text that is not JSON undefined', () => {
    const text = frame(0, 1)
    const parsed = JSON.parse(text) as { ciphertext: string }
    const escaped = text.replace('"cp2.', '"\\u0063p2.')
    const spaced = text.replace(':{', ': {')
    const leadingZero = text.replace('"first":0', '"first":00')
    expect(parseBatchFrame(escaped)).toEqual(JSON.parse(escaped))
    expect((parseBatchFrame(escaped) as { ciphertext: string }).ciphertext).toBe(parsed.ciphertext)
    expect(parseBatchFrame(spaced)).toEqual(JSON.parse(spaced))
    expect(parseBatchFrame(leadingZero)).toBeUndefined()
    expect(parseBatchFrame(text.slice(0, -1))).toBeUndefined()
  })

  for (const [name, backend] of backends) {
    it(`opens frames in any spelling, a frame a read or several, on ${name}`, async () => {
      const first = frame(0, 2)
      const second = frame(2, 1).replace(
        '{"continuum_batch":{"first":2,"events":1},',
        '{ "continuum_batch" : { "events" : 1, "first" : 2 } , ',
      )
      const wire = `event: continuum.batch\ndata: ${first}\n\nevent: continuum.batch\ndata: ${second}\n\n${tail(3)}`
      const expected = `${event(0)}${event(1)}${event(2)}data: [DONE]\n\n`
      expect(await open(backend, [wire])).toBe(expected)
      const cut = [wire.slice(0, 100), wire.slice(100, 700), wire.slice(700)]
      expect(await open(backend, cut)).toBe(expected)
    })

    it(`passes on the events before a refused frame of the same read, then refuses, on ${name}`, async () => {
      const good = frame(0, 1)
      const replayed = good
      const wire = `event: continuum.batch\ndata: ${good}\n\nevent: continuum.batch\ndata: ${replayed}\n\n${tail(2)}`
      const key = await deriveFieldKey(backend, fieldKey.id, fieldKey.aesKey)
      const parts: string[] = []
      const source = (async function* () {
        yield encoder.encode(wire)
      })()
      const reading = (async () => {
        for await (const part of openStream(
          source,
          stream,
          { key, nonce, direction: 'response' },
          { batches: true },
        ))
          parts.push(decoder.decode(part))
      })()
      await expect(reading).rejects.toMatchObject({ code: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED' })
      expect(parts).toEqual([event(0)])
    })

    it(`refuses a frame in the server's spelling with an edited count, start or ciphertext, on ${name}`, async () => {
      const text = frame(0, 1)
      const ciphertext = (JSON.parse(text) as { ciphertext: string }).ciphertext
      const flipped = `${ciphertext.slice(0, -6)}${ciphertext.at(-6) === 'A' ? 'B' : 'A'}${ciphertext.slice(-5)}`
      const edits = [
        text.replace('"events":1', '"events":2'),
        text.replace('"first":0', '"first":1'),
        text.replace('"first":0', '"first":-1'),
        text.replace(ciphertext, flipped),
        text.replace('},"ciphertext"', ',"extra":1},"ciphertext"'),
        `${text.slice(0, -1)},"extra":1}`,
      ]
      for (const edited of edits) {
        const wire = `event: continuum.batch\ndata: ${edited}\n\n${tail(1)}`
        await expect(open(backend, [wire])).rejects.toMatchObject({
          code: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED',
        })
      }
    })

    it(`refuses a frame whose ciphertext holds a character JSON would not take, on ${name}`, async () => {
      const text = frame(0, 1)
      const broken = text.replace('"cp2.', '"cp2.\u0001')
      const wire = `event: continuum.batch\ndata: ${broken}\n\n${tail(1)}`
      await expect(open(backend, [wire])).rejects.toMatchObject({
        code: 'CONTINUUM_RESPONSE_INTEGRITY_FAILED',
      })
    })
  }
})
