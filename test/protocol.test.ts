import { createDecipheriv, createHmac, hkdfSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import canonicalize from 'canonicalize'
import { describe, expect, it } from 'vitest'
import { computeProtocolVectors } from './support/protocol-vectors'
import { computeSharedVectors, SHARED_VECTORS_FILE } from './support/shared-vectors'

const doc = readFileSync(new URL('../docs/PROTOCOL.md', import.meta.url), 'utf8')
const block = doc.slice(doc.indexOf('<!-- test-vectors -->'))
interface Published {
  field: { ciphertext: string; ivHex: string; aad: string; value: string; nonce: string; plaintext: string }
  fieldKey: { keyId: string; keyHex: string; sealKeyHex: string }
  requestSeal: {
    method: string
    routePath: string
    search: string
    canonicalQuery: string
    timestamp: string
    headers: Record<string, string>
    sealedHeaders: string
    body: unknown
    meta: string
    canonicalBody: string
    seal: string
  }
  responseSeal: { status: number; body: unknown; seal: string }
  eventSeal: { sequence: number; eventName: string; event: unknown; seal: string }
  endMarker: { events: number; marker: { continuum_seal: string } & Record<string, unknown> }
  failureMarker: { events: number; marker: { continuum_seal: string } & Record<string, unknown> }
  errorSeal: { status: number; body: unknown; seal: string }
  batchFrame: {
    first: number
    events: number
    ivHex: string
    aad: string
    plaintext: string
    frame: { continuum_batch: { first: number; events: number }; ciphertext: string }
  }
}
const json = block.indexOf('```json') + 7
const published = JSON.parse(block.slice(json, block.indexOf('```', json))) as Published
// The one vector file both clients check (clients/python/tests reads it too).
const shared = JSON.parse(readFileSync(new URL(`../${SHARED_VECTORS_FILE}`, import.meta.url), 'utf8')) as {
  published: unknown
}

/** The seal of docs/PROTOCOL.md §5, from raw node:crypto and the reference JCS implementation. */
function rawSeal(sequence: number, direction: string, kind: string, meta: string, body: unknown): string {
  const sealKey = Buffer.from(published.fieldKey.sealKeyHex, 'hex')
  const input = `cp2|k1|${published.field.nonce}|${direction}|${sequence}|${kind}|${Buffer.byteLength(meta)}:${meta}|${canonicalize(body)}`
  return createHmac('sha256', sealKey).update(input, 'utf8').digest('base64url')
}

function withoutSeal(marker: Record<string, unknown>): Record<string, unknown> {
  const { continuum_seal: _seal, ...rest } = marker
  return rest
}

describe('docs/PROTOCOL.md test vectors', () => {
  it('match the implementation', () => {
    expect(computeProtocolVectors()).toEqual(published)
  })

  it('are the published part of the shared vector file, which matches the server and the TypeScript client', async () => {
    expect(shared.published).toEqual(published)
    // Regenerate with `npx tsx scripts/protocol-vectors.ts` after a deliberate change.
    expect(await computeSharedVectors()).toEqual(shared)
  })

  it('derive the seal key with HKDF as §1 says', () => {
    const key = Buffer.from(published.fieldKey.keyHex, 'hex')
    const sealKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'continuum-proxy cp2 seal key', 32))
    expect(sealKey.toString('hex')).toBe(published.fieldKey.sealKeyHex)
  })

  it('follow the field layout of §4, checked with raw node:crypto', () => {
    const { field, fieldKey } = published
    expect(field.ciphertext.startsWith('cp2.k1.')).toBe(true)
    const payload = Buffer.from(field.ciphertext.split('.')[2] ?? '', 'base64url')
    expect(payload.subarray(0, 12).toString('hex')).toBe(field.ivHex)
    const decipher = createDecipheriv(
      'aes-256-gcm',
      Buffer.from(fieldKey.keyHex, 'hex'),
      payload.subarray(0, 12),
    )
    decipher.setAAD(Buffer.from(field.aad, 'utf8'))
    decipher.setAuthTag(payload.subarray(payload.length - 16))
    const plaintext = Buffer.concat([
      decipher.update(payload.subarray(12, payload.length - 16)),
      decipher.final(),
    ])
    expect(plaintext.toString('utf8')).toBe(field.plaintext)
    expect(plaintext.toString('utf8')).toBe(canonicalize(field.value))
  })

  it('build the request metadata of §5 from its parts', () => {
    const { requestSeal } = published
    // Query: order kept, `+` a space, only unreserved characters left unencoded, upper-case hex.
    expect(requestSeal.canonicalQuery).toBe('api-version=2024-06-01&tag=a%20b&note=caf%C3%A9%21')
    const names = Object.keys(requestSeal.headers).sort()
    expect(requestSeal.sealedHeaders).toBe(names.join(','))
    const lines = names.map((name) => `${name}:${requestSeal.headers[name]}\n`).join('')
    expect(requestSeal.meta).toBe(
      `${requestSeal.method} ${requestSeal.routePath}\n${requestSeal.canonicalQuery}\n${requestSeal.timestamp}\n${lines}`,
    )
    expect(requestSeal.canonicalBody).toBe(canonicalize(requestSeal.body))
    expect(rawSeal(0, 'request', 'request', requestSeal.meta, requestSeal.body)).toBe(requestSeal.seal)
  })

  it('seal responses, events, end, failure and error bodies as §5 says', () => {
    const { responseSeal, eventSeal, endMarker, failureMarker, errorSeal } = published
    expect(rawSeal(0, 'response', 'response', String(responseSeal.status), responseSeal.body)).toBe(
      responseSeal.seal,
    )
    expect(rawSeal(eventSeal.sequence, 'response', 'event', eventSeal.eventName, eventSeal.event)).toBe(
      eventSeal.seal,
    )
    const events = String(endMarker.events)
    expect(rawSeal(endMarker.events, 'response', 'end', events, withoutSeal(endMarker.marker))).toBe(
      endMarker.marker.continuum_seal,
    )
    const failed = String(failureMarker.events)
    expect(
      rawSeal(failureMarker.events, 'response', 'failed', failed, withoutSeal(failureMarker.marker)),
    ).toBe(failureMarker.marker.continuum_seal)
    // The same marker body sealed as a clean end would not match: the kinds keep them apart.
    expect(
      rawSeal(failureMarker.events, 'response', 'end', failed, withoutSeal(failureMarker.marker)),
    ).not.toBe(failureMarker.marker.continuum_seal)
    expect(rawSeal(0, 'response', 'error', String(errorSeal.status), errorSeal.body)).toBe(errorSeal.seal)
  })

  it('encrypt a batch frame as §6.1 says, checked with raw node:crypto', () => {
    const { batchFrame, fieldKey, field } = published
    expect(batchFrame.aad).toBe(
      `cp2|k1|${field.nonce}|response|${batchFrame.first}|continuum.batch|${batchFrame.events}`,
    )
    expect(Object.keys(batchFrame.frame)).toEqual(['continuum_batch', 'ciphertext'])
    expect(batchFrame.frame.continuum_batch).toEqual({ first: batchFrame.first, events: batchFrame.events })
    const payload = Buffer.from(batchFrame.frame.ciphertext.split('.')[2] ?? '', 'base64url')
    expect(batchFrame.frame.ciphertext.startsWith('cp2.k1.')).toBe(true)
    expect(payload.subarray(0, 12).toString('hex')).toBe(batchFrame.ivHex)
    const decipher = createDecipheriv(
      'aes-256-gcm',
      Buffer.from(fieldKey.keyHex, 'hex'),
      payload.subarray(0, 12),
    )
    decipher.setAAD(Buffer.from(batchFrame.aad, 'utf8'))
    decipher.setAuthTag(payload.subarray(payload.length - 16))
    const plaintext = Buffer.concat([
      decipher.update(payload.subarray(12, payload.length - 16)),
      decipher.final(),
    ])
    expect(plaintext.toString('utf8')).toBe(batchFrame.plaintext)
  })
})
