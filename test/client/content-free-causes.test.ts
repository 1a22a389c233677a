/**
 * The client's errors carry no answer content, their `cause` chain included: loggers
 * (`util.inspect`, `console.error`, pino's err serializer) print every cause, and V8's JSON.parse
 * SyntaxError quotes the text around where it stopped. A stream's errors reach the caller as they
 * are (the SDK's read of the body throws them), so a sealed event whose field decrypts to text
 * that is not JSON must fail naming the field's path, not quoting the decrypted text. The server
 * here holds the key and seals its event properly, as a broken server build would. The server's
 * own decryption of a request field follows the same rule.
 */
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { createEncryptedFetch } from 'continuum-proxy/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CipherContext, computeSeal, decryptValue, sealBytes } from '../../src/cipher/field-cipher'
import { createFieldKey } from '../../src/cipher/field-key'
import { endMarker } from '../../src/cipher/message-codec'

const KEY_ID = 'causes-k1'
const KEY = randomBytes(32)
/** V8 quotes about ten characters either side of where the parse stopped. */
const SECRET = 'SSN-078-05-1120'
const MARKER = 'SSN-078'

/** One sealed chat completion chunk whose `extra` member decrypts to `plaintext`, then the end marker. */
function sealedStream(nonce: string, plaintext: string): string {
  const context: CipherContext = { key: createFieldKey(KEY_ID, KEY), nonce, direction: 'response' }
  const aad = Buffer.from(`cp2|${KEY_ID}|${nonce}|response|0|/extra`)
  const extra = `cp2.${KEY_ID}.${sealBytes(context.key, aad, plaintext).toString('base64url')}`
  const event: Record<string, unknown> = { id: 'c', object: 'chat.completion.chunk', created: 1, extra }
  event.continuum_seal = computeSeal(context, 0, 'event', '', event)
  return `data: ${JSON.stringify(event)}\n\nevent: continuum.end\ndata: ${JSON.stringify(endMarker(context, 1))}\n\n`
}

describe('client errors keep decrypted content out of their causes', () => {
  let server: Server
  let url: string

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume()
      request.on('end', () => {
        const nonce = String(request.headers['x-continuum-nonce'])
        response.writeHead(200, { 'content-type': 'text/event-stream', 'x-continuum-encrypted': '1' })
        response.end(sealedStream(nonce, `{"note":[${SECRET}]}`))
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    server.close()
    await once(server, 'close')
  })

  it('a sealed stream event whose field is not JSON: the error names the path only', async () => {
    const encrypted = createEncryptedFetch({ keyId: KEY_ID, key: KEY, streamBatches: false })
    const response = await encrypted(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
    })
    expect(response.status).toBe(200)
    const failure = await response.text().then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(failure).toMatchObject({ code: 'CONTINUUM_DECRYPTION_FAILED', details: { path: '/extra' } })
    expect(inspect(failure, { depth: 10 })).not.toContain(MARKER)
  })

  it("the server's decryption of a field that is not JSON: the error names the path only", () => {
    const nonce = randomBytes(16).toString('base64url')
    const context: CipherContext = { key: createFieldKey(KEY_ID, KEY), nonce, direction: 'request' }
    const aad = Buffer.from(`cp2|${KEY_ID}|${nonce}|request|0|/messages/0/content`)
    const field = `cp2.${KEY_ID}.${sealBytes(context.key, aad, `{"note":[${SECRET}]}`).toString('base64url')}`
    let failure: unknown
    try {
      decryptValue(context, 0, '/messages/0/content', field)
    } catch (error) {
      failure = error
    }
    expect(failure).toMatchObject({
      code: 'CONTINUUM_DECRYPTION_FAILED',
      details: { path: '/messages/0/content' },
    })
    expect(inspect(failure, { depth: 10 })).not.toContain(MARKER)
  })
})
