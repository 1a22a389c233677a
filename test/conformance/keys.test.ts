/**
 * Key life cycle: X25519 agreement with a pinned server fingerprint (and
 * the refusal of a wrong pin before any content leaves), and rotation: an old key keeps working
 * during its grace period, is refused with 401 CONTINUUM_KEY_RETIRED after it, and a client with
 * a key provider refreshes and retries once without the SDK noticing.
 *
 * Once, in process: every scenario here is decided by the keyring, the cipher and the client, on
 * requests and answers the core already holds; no binding reads or writes anything key-specific
 * (the published key is a plain GET, and GETs through each binding are checked in forwarding).
 */
import { randomBytes } from 'node:crypto'
import { fingerprint, generateAgreementKeyPair, Keyring } from 'continuum-proxy'
import { createEncryptedFetch, type SharedKey } from 'continuum-proxy/client'
import { APIConnectionError, APIError } from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { replyFor, startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import type { RunningApp } from './frameworks'
import { inProcess } from './in-process'
import {
  encryptRequest,
  expectRefusal,
  keyEncodings,
  openaiClient,
  recordingFetch,
  SECRET,
  secretChat,
  send,
} from './support'

const GRACE_MS = 60_000

describe('keys in process', () => {
  const harness = inProcess
  let upstream: FakeUpstream
  const running: RunningApp[] = []

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
  })

  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.close()))
  })

  afterAll(async () => {
    await upstream.close()
  })

  async function start(options: Parameters<typeof harness.start>[0]): Promise<RunningApp> {
    const app = await harness.start(options)
    running.push(app)
    return app
  }

  async function ask(client: ReturnType<typeof openaiClient>): Promise<string | null | undefined> {
    const answer = await client.chat.completions.create({
      model: 'llama-3-8b',
      messages: [{ role: 'user', content: SECRET }],
    })
    return answer.choices[0]?.message.content
  }

  it('agrees a key with the published X25519 key, pinned by fingerprint', async () => {
    const pair = generateAgreementKeyPair()
    const app = await start({
      upstream: upstream.url,
      keys: { agreementKeys: [{ id: 'agree-1', privateKey: pair.privateKey }] },
    })
    const published = await send(app, 'GET', '/.well-known/continuum-key')
    expect(published.status).toBe(200)
    expect(published.body).toMatchObject({ keyId: 'agree-1', fingerprint: fingerprint(pair.publicKeyBytes) })
    const wire = recordingFetch(app.fetch)
    const client = openaiClient(app, {
      agreement: { fingerprint: fingerprint(pair.publicKeyBytes) },
      fetch: wire.fetch,
    })
    expect(await ask(client)).toBe(replyFor(SECRET))
    expect(await ask(client)).toBe(replyFor(SECRET))
    expect(JSON.parse(upstream.requests.at(-1)!.body).messages[0].content).toBe(SECRET)
    // One key fetch, then two encrypted requests under the agreed key.
    expect(wire.bodies).toHaveLength(3)
    expect(wire.bodies[1]).toContain('cp2.agree-1.')
    for (const text of [...wire.bodies, ...wire.responses]) expect(text).not.toContain('launch code')
  })

  it('refuses a server key that does not match the pinned fingerprint, before sending content', async () => {
    const pair = generateAgreementKeyPair()
    const app = await start({
      upstream: upstream.url,
      keys: { agreementKeys: [{ id: 'agree-1', privateKey: pair.privateKey }] },
    })
    const forwardedBefore = upstream.requests.length
    const wire = recordingFetch(app.fetch)
    const client = openaiClient(app, {
      agreement: { fingerprint: fingerprint(generateAgreementKeyPair().publicKeyBytes) },
      fetch: wire.fetch,
    })
    const failure = await ask(client).catch((error: unknown) => error)
    // The client's own refusal reaches the SDK as an APIError with our code, never retried.
    expect(failure).toBeInstanceOf(APIError)
    expect(failure).not.toBeInstanceOf(APIConnectionError)
    expect(failure).toMatchObject({ status: 502, code: 'CONTINUUM_SERVER_KEY_MISMATCH' })
    expect(wire.bodies).toEqual([''])
    expect(upstream.requests.length).toBe(forwardedBefore)
  })

  it('re-agrees after the agreement key is rotated and the old one retired (trust on first use, successor vouched by the sealed notice)', async () => {
    let now = Date.now()
    const keyring = new Keyring({
      agreementKeys: [{ id: 'agree-old', privateKey: generateAgreementKeyPair().privateKey }],
      graceMs: GRACE_MS,
      clock: { now: () => now },
    })
    const app = await start({ upstream: upstream.url, keys: keyring })
    const wire = recordingFetch(app.fetch)
    const client = openaiClient(app, { agreement: { trustOnFirstUse: true }, fetch: wire.fetch })
    expect(await ask(client)).toBe(replyFor(SECRET))
    keyring.rotateAgreement({ id: 'agree-new', privateKey: generateAgreementKeyPair().privateKey })
    now += GRACE_MS + 1
    expect(await ask(client)).toBe(replyFor(SECRET))
    // key, request (old key), request refused as retired, key again, request (new key)
    expect(wire.bodies).toHaveLength(5)
    expect(wire.responses[2]).toContain('CONTINUUM_KEY_RETIRED')
    expect(wire.bodies[4]).toContain('cp2.agree-new.')
  })

  it('with trust on first use, refuses a key other than the successor the sealed notice named', async () => {
    let now = Date.now()
    const keyring = new Keyring({
      agreementKeys: [{ id: 'agree-old', privateKey: generateAgreementKeyPair().privateKey }],
      graceMs: GRACE_MS,
      clock: { now: () => now },
    })
    const app = await start({ upstream: upstream.url, keys: keyring })
    const impostor = generateAgreementKeyPair()
    let fetches = 0
    // After the rotation a man in the middle answers the key re-fetch with a key of its own.
    const relay = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input).endsWith('/.well-known/continuum-key') && fetches++ > 0) {
        const publicKey = impostor.publicKeyBytes.toString('base64url')
        return Response.json({
          keyId: 'agree-new',
          algorithm: 'X25519-HKDF-SHA256',
          publicKey,
          fingerprint: fingerprint(impostor.publicKeyBytes),
        })
      }
      return app.fetch(input, init)
    }) as typeof fetch
    const client = openaiClient(app, { agreement: { trustOnFirstUse: true }, fetch: relay })
    expect(await ask(client)).toBe(replyFor(SECRET))
    keyring.rotateAgreement({ id: 'agree-new', privateKey: generateAgreementKeyPair().privateKey })
    now += GRACE_MS + 1
    const forwardedBefore = upstream.requests.length
    const failure = await ask(client).catch((error: unknown) => error)
    expect(failure).toMatchObject({ status: 502, code: 'CONTINUUM_SERVER_KEY_MISMATCH' })
    expect(upstream.requests.length).toBe(forwardedBefore)
  })

  it.each([
    ['not 32 bytes of base64url', 'bm90LWEta2V5'],
    ['a small-order point (all zeros)', Buffer.alloc(32).toString('base64url')],
    ['missing', undefined],
  ])(
    'refuses an ephemeral client key that is %s: 400 CONTINUUM_KEY_AGREEMENT_FAILED',
    async (_label, ephemeral) => {
      const pair = generateAgreementKeyPair()
      const app = await start({
        upstream: upstream.url,
        keys: { agreementKeys: [{ id: 'agree-1', privateKey: pair.privateKey }] },
      })
      const built = encryptRequest('/v1/chat/completions', secretChat(), { keyId: 'agree-1' })
      if (ephemeral !== undefined) built.headers['x-continuum-ephemeral-key'] = ephemeral
      const response = await send(app, 'POST', '/v1/chat/completions', {
        headers: built.headers,
        body: built.body,
      })
      expectRefusal(response, 400, 'CONTINUUM_KEY_AGREEMENT_FAILED')
    },
  )

  it('keeps an old key working during grace, retires it after, and a key provider refreshes once', async () => {
    let now = Date.now()
    const clock = { now: () => now }
    const oldKey = { keyId: 'rot-old', key: randomBytes(32) }
    const newKey = { keyId: 'rot-new', key: randomBytes(32) }
    const keyring = new Keyring({ keys: [{ id: oldKey.keyId, key: oldKey.key }], graceMs: GRACE_MS, clock })
    const app = await start({ upstream: upstream.url, keys: keyring })

    const oldClient = openaiClient(app, oldKey)
    expect(await ask(oldClient)).toBe(replyFor(SECRET))

    keyring.rotate({ id: newKey.keyId, key: newKey.key })
    now += GRACE_MS - 1_000
    expect(await ask(oldClient)).toBe(replyFor(SECRET))
    expect(await ask(openaiClient(app, newKey))).toBe(replyFor(SECRET))

    now += 2_000
    const built = encryptRequest('/v1/chat/completions', secretChat(), {
      keyId: oldKey.keyId,
      key: oldKey.key,
    })
    const refused = await send(app, 'POST', '/v1/chat/completions', {
      headers: built.headers,
      body: built.body,
    })
    expectRefusal(refused, 401, 'CONTINUUM_KEY_RETIRED', [SECRET, ...keyEncodings(oldKey.key)])

    // A provider that still hands out the old key until asked again, as a secret store would.
    let current: SharedKey = oldKey
    let providerCalls = 0
    const provider = (): SharedKey => {
      providerCalls++
      const handedOut = current
      current = newKey
      return handedOut
    }
    const wire = recordingFetch(app.fetch)
    const client = openaiClient(app, { keys: provider, fetch: wire.fetch })
    expect(await ask(client)).toBe(replyFor(SECRET))
    expect(providerCalls).toBe(2)
    expect(wire.bodies).toHaveLength(2)
    expect(wire.bodies[0]).toContain('cp2.rot-old.')
    expect(wire.bodies[1]).toContain('cp2.rot-new.')
    // The refreshed key is kept: the next request goes out once, under the new key.
    expect(await ask(client)).toBe(replyFor(SECRET))
    expect(providerCalls).toBe(2)
    expect(wire.bodies).toHaveLength(3)
  })

  it('retries a retired key only once: a provider that keeps the old key surfaces the 401', async () => {
    let now = Date.now()
    const stale = { keyId: 'stale-1', key: randomBytes(32) }
    const keyring = new Keyring({
      keys: [{ id: stale.keyId, key: stale.key }],
      graceMs: 0,
      clock: { now: () => now },
    })
    keyring.rotate({ id: 'fresh-1', key: randomBytes(32) })
    now += 1
    const app = await start({ upstream: upstream.url, keys: keyring })
    let providerCalls = 0
    const wire = recordingFetch(app.fetch)
    const client = openaiClient(app, {
      keys: () => {
        providerCalls++
        return stale
      },
      fetch: wire.fetch,
    })
    const failure = await ask(client).catch((error: unknown) => error)
    expect(failure).toMatchObject({ status: 401, code: 'CONTINUUM_KEY_RETIRED' })
    expect(providerCalls).toBe(2)
    expect(wire.bodies).toHaveLength(2)
  })
})

describe('createEncryptedFetch key options', () => {
  it.each([
    ['agreement without a pin or the trust-on-first-use opt-in', { agreement: {} }],
    [
      'agreement with both a pin and trust on first use',
      { agreement: { fingerprint: `sha256:${'0'.repeat(64)}`, trustOnFirstUse: true } },
    ],
    ['agreement with a malformed pin', { agreement: { fingerprint: 'abc' } }],
    [
      'a plain path that is not in normal form',
      { keyId: 'k1', key: randomBytes(32), plainPaths: ['/v1//files'] },
    ],
    ['a key of the wrong length', { keyId: 'k1', key: randomBytes(16) }],
    ['an undecodable key string', { keyId: 'k1', key: 'not a key' }],
    ['a key id outside [A-Za-z0-9_-]', { keyId: 'k 1', key: randomBytes(32) }],
  ])('refuses %s at construction with CONTINUUM_INVALID_OPTIONS', (_label, options) => {
    expect(() => createEncryptedFetch(options)).toThrow(
      expect.objectContaining({ code: 'CONTINUUM_INVALID_OPTIONS' }),
    )
  })
})
