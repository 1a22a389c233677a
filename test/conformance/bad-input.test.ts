/**
 * Bad input (issue item 7): each refusal has its stable code and status, says
 * `x-continuum-encrypted: 0`, echoes no plaintext or key material, and never reaches the inference
 * server. Requests are built with the cipher API so each test breaks exactly one property of an
 * otherwise valid request.
 *
 * Per binding (six harnesses), because the binding reads the body and writes the answer: malformed
 * JSON (the core must parse the bytes, not a framework's parser answer with its own error), the
 * two 413s and the 413 that must reach a client still sending (the binding must answer without
 * reading the rest), 405 with its Allow header (the binding's routing and header writing), and
 * `unknownRoutes: 'next'` (the binding's fall-through to the host app).
 * Once, in process: everything decided by the core from a request it already holds: schemas, keys,
 * versions, seals, ciphertexts, nonces, timestamps, replays, required encryption, unknown routes.
 *
 * Which check fires first matters for tampering: the request seal covers the body as sent, so a
 * ciphertext that is altered or moved to another path fails the seal first (INTEGRITY_FAILED).
 * Only a sender holding the key can re-seal a modified body; then field decryption catches it
 * (DECRYPTION_FAILED), because every ciphertext is bound to its JSON-pointer path.
 */
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { Keyring, MemoryStateStore } from 'continuum-proxy'
import request from 'supertest'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { computeSeal } from '../../src/cipher/field-cipher'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { APP_FALLBACK_STATUS, type FrameworkHarness, frameworks, type RunningApp } from './frameworks'
import { inProcess } from './in-process'
import {
  type BuiltRequest,
  encryptRequest,
  expectRefusal,
  KEY,
  KEY_ID,
  SECRET,
  secretChat,
  send,
} from './support'

const BODY_LIMIT = 4096
const RETIRED_KEY = randomBytes(32)
const CHAT = '/v1/chat/completions'

/** Sends a body with `transfer-encoding: chunked` and no content-length. */
function sendChunked(
  url: string,
  chunks: string[],
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (part: string) => {
          text += part
        })
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, text }),
        )
      },
    )
    outgoing.on('error', reject)
    for (const part of chunks) outgoing.write(part)
    outgoing.end()
  })
}

/** Replaces one character in the middle of a ciphertext's encrypted bytes (after the IV, before the tag). */
function flipCiphertext(ciphertext: string): string {
  const payloadStart = ciphertext.lastIndexOf('.') + 1
  const at = payloadStart + 20
  const replacement = ciphertext[at] === 'A' ? 'B' : 'A'
  return ciphertext.slice(0, at) + replacement + ciphertext.slice(at + 1)
}

function reseal(built: BuiltRequest): void {
  built.headers['x-continuum-seal'] = computeSeal(built.context, 0, 'request', built.meta, built.body)
}

function messages(built: BuiltRequest): { role: string; content: unknown }[] {
  return built.body.messages as { role: string; content: unknown }[]
}

/** The app under test and its fake upstream, started once for the describe block. */
function useApp(harness: FrameworkHarness) {
  const state = { forwardedBefore: 0 } as { upstream: FakeUpstream; app: RunningApp; forwardedBefore: number }

  beforeAll(async () => {
    state.upstream = await startOpenAIUpstream()
    const keyring = new Keyring({
      keys: [
        { id: KEY_ID, key: KEY },
        { id: 'retired-k0', key: RETIRED_KEY },
      ],
    })
    keyring.retire('retired-k0')
    state.app = await harness.start({
      upstream: state.upstream.url,
      keys: keyring,
      bodyLimit: BODY_LIMIT,
      unknownRoutes: 'reject',
    })
  })

  afterAll(async () => {
    await state.app.close()
    await state.upstream.close()
  })

  beforeEach(() => {
    state.forwardedBefore = state.upstream.requests.length
  })

  return {
    state,
    post: (built: BuiltRequest, path = CHAT, app = state.app) =>
      send(app, 'POST', path, { headers: built.headers, body: built.body }),
    expectNotForwarded(): void {
      expect(state.upstream.requests.length).toBe(state.forwardedBefore)
    },
  }
}

/** Writes the first piece of an oversized upload and resolves with the answer while the rest is unsent. */
async function answerWhileSending(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: IncomingMessage['headers']; text: string }> {
  const outgoing = httpRequest(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
  })
  outgoing.on('error', () => undefined)
  outgoing.write(`{"model":"llama-3-8b","padding":"${'x'.repeat(BODY_LIMIT * 2)}`)
  const [response] = (await once(outgoing, 'response')) as [IncomingMessage]
  let text = ''
  response.setEncoding('utf8')
  for await (const part of response) text += part
  outgoing.destroy()
  return { status: response.statusCode ?? 0, headers: response.headers, text }
}

describe.each(frameworks)('bad input via $name', (harness) => {
  const { state, expectNotForwarded } = useApp(harness)
  const url = () => state.app.url

  it('malformed JSON: 400 CONTINUUM_INVALID_JSON', async () => {
    const response = await request(url())
      .post(CHAT)
      .set('content-type', 'application/json')
      .send(`{"model":"llama-3-8b","messages":[{"role":"user","content":"${SECRET}"`)
    expectRefusal(response, 400, 'CONTINUUM_INVALID_JSON')
    expectNotForwarded()
  })

  it('a body over bodyLimit with content-length: 413 CONTINUUM_BODY_TOO_LARGE', async () => {
    const body = JSON.stringify(secretChat({ padding: SECRET.repeat(200) }))
    expect(body.length).toBeGreaterThan(BODY_LIMIT)
    const response = await request(url()).post(CHAT).set('content-type', 'application/json').send(body)
    expectRefusal(response, 413, 'CONTINUUM_BODY_TOO_LARGE')
    expectNotForwarded()
  })

  it('a chunked body over bodyLimit without content-length: 413 CONTINUUM_BODY_TOO_LARGE', async () => {
    const body = JSON.stringify(secretChat({ padding: SECRET.repeat(200) }))
    const chunks = body.match(/.{1,1000}/gs) ?? []
    const response = await sendChunked(url() + CHAT, chunks)
    expectRefusal(response, 413, 'CONTINUUM_BODY_TOO_LARGE')
    expectNotForwarded()
  })

  it('a wrong method: 405 CONTINUUM_METHOD_NOT_ALLOWED with Allow', async () => {
    const response = await request(url()).get(CHAT)
    expectRefusal(response, 405, 'CONTINUUM_METHOD_NOT_ALLOWED')
    expect(response.headers.allow).toBe('POST')
    expectNotForwarded()
  })

  it("unknownRoutes: 'next' hands an unknown path to the app's own handler", async () => {
    const passing = await harness.start({
      upstream: state.upstream.url,
      keys: { keys: [{ id: KEY_ID, key: KEY }] },
      unknownRoutes: 'next',
    })
    try {
      const response = await request(passing.url).post('/v1/fine_tuning/jobs').send({ training_file: 'x' })
      expect(response.status).toBe(APP_FALLBACK_STATUS)
      expect(response.body.handledBy).toBe('app')
      // Adapter routes are still the proxy's.
      expectRefusal(
        await request(passing.url).post(CHAT).send(secretChat()),
        400,
        'CONTINUUM_ENCRYPTION_REQUIRED',
      )
    } finally {
      await passing.close()
    }
    expectNotForwarded()
  })

  it.each([
    ['a declared content-length over bodyLimit', { 'content-length': String(BODY_LIMIT * 64) }],
    ['a chunked body whose running total passes bodyLimit', { 'transfer-encoding': 'chunked' }],
  ])('%s is answered 413 while the client is still sending', async (_label, headers) => {
    const response = await answerWhileSending(url() + CHAT, headers)
    expectRefusal(response, 413, 'CONTINUUM_BODY_TOO_LARGE')
    expectNotForwarded()
  })
})

describe('bad input in process', () => {
  const { state, post, expectNotForwarded } = useApp(inProcess)
  const harness = inProcess

  it('a valid request goes through (the baseline the other tests break)', async () => {
    const response = await post(encryptRequest(CHAT, secretChat()))
    expect(response.status).toBe(200)
    expect(response.headers['x-continuum-encrypted']).toBe('1')
    expect(state.upstream.requests.length).toBe(state.forwardedBefore + 1)
  })

  it('a body that is not an object: 400 CONTINUUM_SCHEMA_VIOLATION at /', async () => {
    const response = await send(state.app, 'POST', CHAT, {
      headers: { 'content-type': 'application/json' },
      body: `["${SECRET}"]`,
    })
    expect(expectRefusal(response, 400, 'CONTINUUM_SCHEMA_VIOLATION').path).toBe('/')
    expectNotForwarded()
  })

  it('a decrypted body failing its schema: 400 CONTINUUM_SCHEMA_VIOLATION naming the path', async () => {
    const built = encryptRequest(CHAT, {
      model: 'llama-3-8b',
      messages: [{ role: 'wizard', content: SECRET }],
    })
    const error = expectRefusal(await post(built), 400, 'CONTINUUM_SCHEMA_VIOLATION')
    expect(error.path).toBe('/messages/0/role')
    expect(error.message).toContain('/messages/0/role')
    expectNotForwarded()
  })

  it('a plain routing field failing its schema: 400 CONTINUUM_SCHEMA_VIOLATION at /max_tokens', async () => {
    const error = expectRefusal(
      await post(encryptRequest(CHAT, secretChat({ max_tokens: -5 }))),
      400,
      'CONTINUUM_SCHEMA_VIOLATION',
    )
    expect(error.path).toBe('/max_tokens')
    expectNotForwarded()
  })

  it('missing key id: 400 CONTINUUM_KEY_ID_MISSING', async () => {
    const built = encryptRequest(CHAT, secretChat())
    delete built.headers['x-continuum-key-id']
    expectRefusal(await post(built), 400, 'CONTINUUM_KEY_ID_MISSING')
    expectNotForwarded()
  })

  it('unknown key id: 401 CONTINUUM_KEY_UNKNOWN', async () => {
    const built = encryptRequest(CHAT, secretChat(), { keyId: 'never-configured', key: randomBytes(32) })
    expectRefusal(await post(built), 401, 'CONTINUUM_KEY_UNKNOWN')
    expectNotForwarded()
  })

  it('retired key id: 401 CONTINUUM_KEY_RETIRED', async () => {
    const built = encryptRequest(CHAT, secretChat(), { keyId: 'retired-k0', key: RETIRED_KEY })
    expectRefusal(await post(built), 401, 'CONTINUUM_KEY_RETIRED', [SECRET, ...encodings(RETIRED_KEY)])
    expectNotForwarded()
  })

  it('an unsupported format version: 400 CONTINUUM_UNSUPPORTED_VERSION', async () => {
    const built = encryptRequest(CHAT, secretChat())
    built.headers['x-continuum-encryption'] = 'cp9'
    expectRefusal(await post(built), 400, 'CONTINUUM_UNSUPPORTED_VERSION')
    expectNotForwarded()
  })

  it('a tampered ciphertext fails the seal first: 400 CONTINUUM_INTEGRITY_FAILED', async () => {
    const built = encryptRequest(CHAT, secretChat())
    messages(built)[1]!.content = flipCiphertext(String(messages(built)[1]!.content))
    expectRefusal(await post(built), 400, 'CONTINUUM_INTEGRITY_FAILED')
    expectNotForwarded()
  })

  it('a tampered ciphertext under a valid seal: 400 CONTINUUM_DECRYPTION_FAILED naming the path', async () => {
    const built = encryptRequest(CHAT, secretChat())
    messages(built)[1]!.content = flipCiphertext(String(messages(built)[1]!.content))
    reseal(built)
    const error = expectRefusal(await post(built), 400, 'CONTINUUM_DECRYPTION_FAILED')
    expect(error.path).toBe('/messages/1/content')
    expectNotForwarded()
  })

  it('a malformed ciphertext under a valid seal: 400 CONTINUUM_MALFORMED_CIPHERTEXT', async () => {
    const built = encryptRequest(CHAT, secretChat())
    messages(built)[1]!.content = `cp2.${KEY_ID}.!!not-base64!!`
    reseal(built)
    expectRefusal(await post(built), 400, 'CONTINUUM_MALFORMED_CIPHERTEXT')
    expectNotForwarded()
  })

  it('a field moved to another path fails the seal first: 400 CONTINUUM_INTEGRITY_FAILED', async () => {
    const built = encryptRequest(CHAT, secretChat())
    const [system, user] = messages(built)
    ;[system!.content, user!.content] = [user!.content, system!.content]
    expectRefusal(await post(built), 400, 'CONTINUUM_INTEGRITY_FAILED')
    expectNotForwarded()
  })

  it('a field moved to another path under a valid seal: 400 CONTINUUM_DECRYPTION_FAILED', async () => {
    const built = encryptRequest(CHAT, secretChat())
    const [system, user] = messages(built)
    ;[system!.content, user!.content] = [user!.content, system!.content]
    reseal(built)
    const error = expectRefusal(await post(built), 400, 'CONTINUUM_DECRYPTION_FAILED')
    expect(error.path).toBe('/messages/0/content')
    expectNotForwarded()
  })

  it.each([
    ['model', 'llama-3-70b'],
    ['max_tokens', 4096],
  ])('a changed plain field (%s): 400 CONTINUUM_INTEGRITY_FAILED', async (field, value) => {
    const built = encryptRequest(CHAT, secretChat())
    built.body[field] = value
    expectRefusal(await post(built), 400, 'CONTINUUM_INTEGRITY_FAILED')
    expectNotForwarded()
  })

  it('a request sealed for another route: 400 CONTINUUM_INTEGRITY_FAILED', async () => {
    const built = encryptRequest('/v1/completions', { model: 'llama-3-8b', prompt: SECRET, messages: [] })
    expectRefusal(await post(built, CHAT), 400, 'CONTINUUM_INTEGRITY_FAILED')
    expectNotForwarded()
  })

  it('a replay sent to another instance sharing the nonce store: 409 CONTINUUM_REPLAY_DETECTED', async () => {
    const store = new MemoryStateStore()
    const first = await harness.start({
      upstream: state.upstream.url,
      keys: { keys: [{ id: KEY_ID, key: KEY }] },
      store,
    })
    const second = await harness.start({
      upstream: state.upstream.url,
      keys: { keys: [{ id: KEY_ID, key: KEY }] },
      store,
    })
    try {
      const built = encryptRequest(CHAT, secretChat())
      expect((await post(built, CHAT, first)).status).toBe(200)
      const replayed = await post(built, CHAT, second)
      expectRefusal(replayed, 409, 'CONTINUUM_REPLAY_DETECTED')
    } finally {
      await Promise.all([first.close(), second.close()])
    }
    expect(state.upstream.requests.length).toBe(state.forwardedBefore + 1)
  })

  it.each([
    ['too short', 'c2hvcnQ'],
    ['not base64url', '!'.repeat(22)],
  ])('a nonce that is %s: 400 CONTINUUM_INTEGRITY_FAILED', async (_label, nonce) => {
    const built = encryptRequest(CHAT, secretChat(), { nonce })
    expectRefusal(await post(built), 400, 'CONTINUUM_INTEGRITY_FAILED')
    expectNotForwarded()
  })

  it('a missing timestamp: 400 CONTINUUM_TIMESTAMP_OUT_OF_WINDOW', async () => {
    const built = encryptRequest(CHAT, secretChat())
    delete built.headers['x-continuum-timestamp']
    expectRefusal(await post(built), 400, 'CONTINUUM_TIMESTAMP_OUT_OF_WINDOW')
    expectNotForwarded()
  })

  it('a replayed request: 409 CONTINUUM_REPLAY_DETECTED', async () => {
    const built = encryptRequest(CHAT, secretChat())
    expect((await post(built)).status).toBe(200)
    expectRefusal(await post(built), 409, 'CONTINUUM_REPLAY_DETECTED')
    expect(state.upstream.requests.length).toBe(state.forwardedBefore + 1)
  })

  it('a refused tampered copy does not burn the nonce of the genuine request', async () => {
    const built = encryptRequest(CHAT, secretChat())
    const tampered = { ...built, body: { ...built.body, model: 'llama-3-70b' } }
    expectRefusal(await post(tampered), 400, 'CONTINUUM_INTEGRITY_FAILED')
    expect((await post(built)).status).toBe(200)
  })

  it.each([
    ['ten minutes old', -600_000],
    ['ten minutes ahead', 600_000],
  ])('a timestamp %s: 400 CONTINUUM_TIMESTAMP_OUT_OF_WINDOW', async (_label, offset) => {
    const built = encryptRequest(CHAT, secretChat(), { timestamp: Date.now() + offset })
    expectRefusal(await post(built), 400, 'CONTINUUM_TIMESTAMP_OUT_OF_WINDOW')
    expectNotForwarded()
  })

  it('plaintext under a valid seal where ciphertext is required: 400 CONTINUUM_FIELD_NOT_ENCRYPTED', async () => {
    const built = encryptRequest(CHAT, secretChat())
    messages(built)[1]!.content = SECRET
    reseal(built)
    const error = expectRefusal(await post(built), 400, 'CONTINUUM_FIELD_NOT_ENCRYPTED')
    expect(error.path).toBe('/messages/1/content')
    expectNotForwarded()
  })

  it('no encryption headers while encryption is required: 400 CONTINUUM_ENCRYPTION_REQUIRED', async () => {
    const response = await send(state.app, 'POST', CHAT, { body: secretChat() })
    expectRefusal(response, 400, 'CONTINUUM_ENCRYPTION_REQUIRED')
    expectNotForwarded()
  })

  it('an unsupported route: 501 CONTINUUM_ROUTE_NOT_SUPPORTED', async () => {
    const response = await send(state.app, 'POST', '/v1/fine_tuning/jobs', {
      body: { training_file: SECRET },
    })
    expectRefusal(response, 501, 'CONTINUUM_ROUTE_NOT_SUPPORTED')
    expectNotForwarded()
  })
})

function encodings(key: Uint8Array): string[] {
  return [Buffer.from(key).toString('base64url'), Buffer.from(key).toString('hex')]
}
