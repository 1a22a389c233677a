/**
 * The hybrid post-quantum agreement (X25519 + ML-KEM-768) through every framework: the official
 * openai client with `createEncryptedFetch` in hybrid mode, JSON and streamed, over bounded
 * sessions; and what a relay or another client would try: a swapped ML-KEM key under a pinned
 * fingerprint, a key document rewritten to the classical agreement, a rewritten handshake answer,
 * a ticket presented under another key, a forged ticket, a request moved to another session, an
 * expired or spent session, the classical agreement against a hybrid-only key, and a rotation in
 * the middle of a session.
 */
import { randomBytes } from 'node:crypto'
import {
  fingerprint,
  HYBRID_AGREEMENT,
  type HybridSessionStageOptions,
  hybridFingerprint,
  hybridSessionStage,
  Keyring,
  MemoryStateStore,
  type ProxyOptions,
  SESSION_PATH,
} from 'continuum-proxy'
import { APIConnectionError, APIError } from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { HEADERS } from '../../src/cipher/format'
import { parseHybridKey } from '../../src/cipher/hybrid-agreement'
import { errorSealMatches } from '../../src/cipher/message-codec'
import { type HybridSession, handshake } from '../../src/client/hybrid-session'
import { loadMlKem768 } from '../../src/internal/post-quantum'
import { replyFor, startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { type FrameworkHarness, frameworks, type RunningApp, rootFrameworks } from './frameworks'
import { encryptRequest, openaiClient, recordingFetch, SECRET, secretChat } from './support'

/** The client's own refusal reaches the SDK as an APIError carrying our code, never retried. */
function expectRefused(failure: unknown, code: string): void {
  expect(failure).toBeInstanceOf(APIError)
  expect(failure).not.toBeInstanceOf(APIConnectionError)
  expect(failure).toMatchObject({ code })
}

const seed = () => randomBytes(32).toString('base64url')

function hybridKey(id: string, extra: { classical?: boolean } = {}) {
  return { id, privateKey: seed(), algorithm: HYBRID_AGREEMENT, ...extra } as const
}

/** A fetch that records the headers of every request and lets a test rewrite answers, as a relay would. */
function relayFetch(rewrite?: (url: string, body: unknown) => unknown) {
  const requests: { url: string; headers: Record<string, string>; body: string }[] = []
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input)
    requests.push({
      url,
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === 'string' ? init.body : '',
    })
    const response = await globalThis.fetch(input, init)
    if (rewrite === undefined || !(response.headers.get('content-type') ?? '').includes('json'))
      return response
    const original: unknown = await response.json()
    const replaced = rewrite(url, original) ?? original
    return new Response(JSON.stringify(replaced), { status: response.status, headers: response.headers })
  }) as typeof fetch
  return { fetch: fetcher, requests }
}

async function ask(client: ReturnType<typeof openaiClient>): Promise<string | null | undefined> {
  const answer = await client.chat.completions.create({
    model: 'llama-3-8b',
    messages: [{ role: 'user', content: SECRET }],
  })
  return answer.choices[0]?.message.content
}

function setup(list: FrameworkHarness[], body: (context: Context) => void) {
  describe.each(list)('hybrid agreement via $name', (harness) => {
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
    body({
      upstream: () => upstream,
      async start(keyring, stage = {}, extra = {}) {
        const app = await harness.start({
          upstream: upstream.url,
          keys: keyring,
          stages: [hybridSessionStage({ keyring, ...stage })],
          ...extra,
        })
        running.push(app)
        return app
      },
    })
  })
}

interface Context {
  upstream(): FakeUpstream
  start(
    keyring: Keyring,
    stage?: Partial<HybridSessionStageOptions>,
    extra?: Partial<ProxyOptions>,
  ): Promise<RunningApp>
}

/** Agrees a session the way the client does, returning its key and ticket for hand-made requests. */
async function agreeSession(url: string, fetcher: typeof fetch = fetch): Promise<HybridSession> {
  const published = (await (await fetch(`${url}/.well-known/continuum-key`)).json()) as Record<
    string,
    unknown
  >
  const server = parseHybridKey(published, String(published.keyId))
  const outcome = await handshake(url, server, await loadMlKem768(), fetcher, { now: () => Date.now() })
  if (outcome.kind !== 'session') throw new Error('no session')
  return outcome.session
}

/** Sends one chat under a session (or any key and ticket), as the client would. */
async function sendWith(url: string, session: HybridSession, ticket?: string, nonce?: string) {
  const key = session.fieldKey
  const built = encryptRequest('/v1/chat/completions', secretChat(), {
    keyId: key.id,
    key: key.aesKey,
    ...(nonce === undefined ? {} : { nonce }),
  })
  return sendBuilt(url, built, ticket ?? session.resolved.headers[HEADERS.ephemeralKey]!)
}

async function sendBuilt(url: string, built: ReturnType<typeof encryptRequest>, ticket: string) {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...built.headers, [HEADERS.ephemeralKey]: ticket },
    body: JSON.stringify(built.body),
  })
  const text = await response.text()
  return {
    response,
    text,
    body: JSON.parse(text) as { error: Record<string, unknown> & { code?: string } },
    built,
  }
}

function sealedFor(session: HybridSession, sent: Awaited<ReturnType<typeof sendWith>>): boolean {
  const context = {
    key: session.fieldKey,
    nonce: sent.built.context.nonce,
    direction: 'response' as const,
  }
  return errorSealMatches(
    context,
    sent.response.status,
    sent.body,
    sent.response.headers.get(HEADERS.seal) ?? undefined,
  )
}

setup(frameworks, ({ start, upstream }) => {
  it('publishes both keys under one fingerprint; the openai SDK agrees a session and chats and streams under its ticket', async () => {
    const keyring = await Keyring.create({ agreementKeys: [hybridKey('pq-1')] })
    const app = await start(keyring)
    const published = keyring.published()!
    expect(published).toMatchObject({ keyId: 'pq-1', algorithm: HYBRID_AGREEMENT, classical: false })
    const wire = recordingFetch()
    const relay = relayFetch()
    const client = openaiClient(app.url, {
      agreement: { fingerprint: published.fingerprint, hybrid: 'require' },
      fetch: relay.fetch,
    })
    const recorded = openaiClient(app.url, {
      agreement: { fingerprint: published.fingerprint, hybrid: 'require' },
      fetch: wire.fetch,
    })
    expect(await ask(client)).toBe(replyFor(SECRET))
    expect(await ask(client)).toBe(replyFor(SECRET))
    expect(JSON.parse(upstream().requests.at(-1)!.body).messages[0].content).toBe(SECRET)
    // Key document, one handshake, then two requests carrying the same short ticket.
    expect(relay.requests.map((entry) => new URL(entry.url).pathname.replace(/^\/llm/, ''))).toEqual([
      '/.well-known/continuum-key',
      SESSION_PATH,
      '/v1/chat/completions',
      '/v1/chat/completions',
    ])
    const tickets = relay.requests.slice(2).map((entry) => entry.headers[HEADERS.ephemeralKey])
    expect(tickets[0]).toHaveLength(119)
    expect(tickets[1]).toBe(tickets[0])
    expect(relay.requests[2]!.body).toContain('cp2.pq-1.')

    const stream = await recorded.chat.completions.create({
      model: 'llama-3-8b',
      stream: true,
      messages: [{ role: 'user', content: SECRET }],
    })
    let text = ''
    for await (const part of stream) text += part.choices[0]?.delta.content ?? ''
    expect(text).toBe(replyFor(SECRET))
    await wire.settled()
    for (const seen of [...wire.bodies, ...wire.responses]) expect(seen).not.toContain('launch code')
  })
})

setup(rootFrameworks, ({ start, upstream }) => {
  it('refuses a swapped ML-KEM key under a pinned fingerprint, before any content leaves', async () => {
    const keyring = await Keyring.create({ agreementKeys: [hybridKey('pq-1')] })
    const app = await start(keyring)
    const pin = keyring.published()!.fingerprint
    const attacker = await Keyring.create({ agreementKeys: [hybridKey('pq-1')] })
    const forged = attacker.published() as unknown as Record<string, unknown>
    const relay = relayFetch((url, body) => {
      if (!url.endsWith('/.well-known/continuum-key')) return body
      const mlKemPublicKey = forged.mlKemPublicKey as string
      const x25519 = Buffer.from(String((body as Record<string, unknown>).publicKey), 'base64url')
      // The relay keeps the real X25519 key and recomputes the fingerprint over its own ML-KEM key.
      return {
        ...(body as object),
        mlKemPublicKey,
        fingerprint: hybridFingerprint(Buffer.from(mlKemPublicKey, 'base64url'), x25519, false),
      }
    })
    const before = upstream().requests.length
    const client = openaiClient(app.url, { agreement: { fingerprint: pin }, fetch: relay.fetch })
    const failure = await ask(client).catch((error: unknown) => error)
    expectRefused(failure, 'CONTINUUM_SERVER_KEY_MISMATCH')
    expect(relay.requests).toHaveLength(1)
    expect(upstream().requests.length).toBe(before)
  })

  it('refuses a key document rewritten to the classical agreement when the client asked for hybrid', async () => {
    const keyring = await Keyring.create({ agreementKeys: [hybridKey('pq-1', { classical: true })] })
    const app = await start(keyring)
    const pin = keyring.published()!.fingerprint
    const downgrade = (url: string, body: unknown) => {
      if (!url.endsWith('/.well-known/continuum-key')) return body
      const { keyId, publicKey } = body as Record<string, string>
      const classicalPrint = fingerprint(Buffer.from(publicKey!, 'base64url'))
      return { keyId, algorithm: 'X25519-HKDF-SHA256', publicKey, fingerprint: classicalPrint }
    }
    const before = upstream().requests.length
    // hybrid: 'require' refuses any classical document, even under trust on first use.
    for (const agreement of [
      { fingerprint: pin, hybrid: 'require' as const },
      { trustOnFirstUse: true, hybrid: 'require' as const },
    ]) {
      const relay = relayFetch(downgrade)
      const failure = await ask(openaiClient(app.url, { agreement, fetch: relay.fetch })).catch(
        (e: unknown) => e,
      )
      expectRefused(failure, 'CONTINUUM_KEY_AGREEMENT_DOWNGRADE')
      expect(relay.requests).toHaveLength(1)
    }
    // The default ('prefer') with a pin of the hybrid key: the classical fingerprint is not the pin.
    const relay = relayFetch(downgrade)
    const failure = await ask(
      openaiClient(app.url, { agreement: { fingerprint: pin }, fetch: relay.fetch }),
    ).catch((error: unknown) => error)
    expectRefused(failure, 'CONTINUUM_SERVER_KEY_MISMATCH')
    expect(upstream().requests.length).toBe(before)
    // The server allows classical clients here, so an honest classical client still works.
    const classical = openaiClient(app.url, { agreement: { fingerprint: pin, hybrid: 'off' } })
    expect(await ask(classical)).toBe(replyFor(SECRET))
  })

  it('a hybrid-only key refuses the classical agreement, so a relay cannot downgrade requests either', async () => {
    const keyring = await Keyring.create({ agreementKeys: [hybridKey('pq-1')] })
    const app = await start(keyring)
    const failure = await ask(
      openaiClient(app.url, { agreement: { fingerprint: keyring.published()!.fingerprint, hybrid: 'off' } }),
    ).catch((error: unknown) => error)
    expectRefused(failure, 'CONTINUUM_KEY_AGREEMENT_FAILED')
    const session = await agreeSession(app.url)
    const x25519 = Buffer.from(String(keyring.published()!.publicKey), 'base64url').toString('base64url')
    // A request naming the hybrid key with a bare X25519 key where the ticket belongs.
    const sent = await sendWith(app.url, session, x25519)
    expect(sent.response.status).toBe(400)
    expect(sent.body.error.code).toBe('CONTINUUM_KEY_AGREEMENT_FAILED')
  })

  it('refuses a handshake answer a relay rewrote (longer bounds, another ticket)', async () => {
    const keyring = await Keyring.create({ agreementKeys: [hybridKey('pq-1')] })
    const app = await start(keyring, { maxRequests: 2 })
    const pin = keyring.published()!.fingerprint
    for (const change of [
      { maxRequests: 1_000_000 },
      { session: (await agreeSession(app.url)).resolved.headers[HEADERS.ephemeralKey] },
    ]) {
      const relay = relayFetch((url, body) =>
        url.endsWith(SESSION_PATH) ? { ...(body as object), ...change } : body,
      )
      const before = upstream().requests.length
      const failure = await ask(
        openaiClient(app.url, { agreement: { fingerprint: pin }, fetch: relay.fetch }),
      ).catch((error: unknown) => error)
      expectRefused(failure, 'CONTINUUM_KEY_AGREEMENT_FAILED')
      expect(upstream().requests.length).toBe(before)
    }
  })

  it('answers malformed, stale, unproven or misdirected handshakes with a 4xx, never a session', async () => {
    const keyring = await Keyring.create({
      agreementKeys: [hybridKey('pq-1')],
      keys: [{ id: 'shared-1', key: randomBytes(32) }],
    })
    const app = await start(keyring)
    const relay = relayFetch()
    await agreeSession(app.url, relay.fetch)
    const valid = JSON.parse(relay.requests[0]!.body) as Record<string, unknown>
    const post = (body: unknown) =>
      fetch(`${app.url}${SESSION_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as { error?: { code?: string }; session?: unknown },
      }))
    const cases: [unknown, number, string][] = [
      ['not json', 400, 'CONTINUUM_INVALID_JSON'],
      [[valid], 400, 'CONTINUUM_KEY_AGREEMENT_FAILED'],
      [{ ...valid, cipherText: 'AAAA' }, 400, 'CONTINUUM_KEY_AGREEMENT_FAILED'],
      [{ ...valid, proof: 'x'.repeat(43) }, 400, 'CONTINUUM_KEY_AGREEMENT_FAILED'],
      [{ ...valid, timestamp: Number(valid.timestamp) - 600_000 }, 400, 'CONTINUUM_TIMESTAMP_OUT_OF_WINDOW'],
      [{ ...valid, keyId: 'shared-1' }, 400, 'CONTINUUM_KEY_AGREEMENT_FAILED'],
      [{ ...valid, keyId: 'nobody' }, 401, 'CONTINUUM_KEY_UNKNOWN'],
      [
        { ...valid, publicKey: Buffer.alloc(32).toString('base64url') },
        400,
        'CONTINUUM_KEY_AGREEMENT_FAILED',
      ],
    ]
    for (const [body, status, code] of cases) {
      const answer = await post(body)
      expect({ body, status: answer.status, code: answer.body.error?.code }).toEqual({ body, status, code })
      expect(answer.body.session).toBeUndefined()
    }
    const get = await fetch(`${app.url}${SESSION_PATH}`)
    expect(get.status).toBe(405)
  })

  it('refuses a ticket under another key id, a forged ticket, and a request moved to another session', async () => {
    const keyring = await Keyring.create({ agreementKeys: [hybridKey('tenant-a'), hybridKey('tenant-b')] })
    const app = await start(keyring)
    // The published key is tenant-a's (the first is primary); tenant-b is another tenant's key.
    const b = await agreeSession(app.url)
    expect(b.resolved.key.id).toBe('tenant-a')
    const ticketB = b.resolved.headers[HEADERS.ephemeralKey]!
    // A's ticket under key id tenant-b: the ticket is sealed under tenant-a's ticket key and names it.
    const built = encryptRequest('/v1/chat/completions', secretChat(), {
      keyId: 'tenant-b',
      key: b.fieldKey.aesKey,
    })
    const crossed = await sendBuilt(app.url, built, ticketB)
    expect(crossed.response.status).toBe(401)
    expect(crossed.body.error.code).toBe('CONTINUUM_SESSION_INVALID')
    // One flipped byte in the ticket.
    const bytes = Buffer.from(ticketB, 'base64url')
    bytes[40] = bytes[40]! ^ 1
    const forged = await sendWith(app.url, b, bytes.toString('base64url'))
    expect(forged.response.status).toBe(401)
    expect(forged.body.error.code).toBe('CONTINUUM_SESSION_INVALID')
    // A request of session B1 carried under session B2's ticket: B2's key does not verify its seal.
    const b2 = await agreeSession(app.url)
    const moved = await sendWith(app.url, b, b2.resolved.headers[HEADERS.ephemeralKey]!)
    expect(moved.response.status).toBe(400)
    expect(moved.body.error.code).toBe('CONTINUUM_INTEGRITY_FAILED')
    expect(JSON.stringify(moved.body)).not.toContain('launch code')
    // The same request twice in its own session is a replay.
    const nonce = randomBytes(16).toString('base64url')
    expect((await sendWith(app.url, b, undefined, nonce)).response.status).toBe(200)
    const replayed = await sendWith(app.url, b, undefined, nonce)
    expect(replayed.response.status).toBe(409)
    expect(replayed.body.error.code).toBe('CONTINUUM_REPLAY_DETECTED')
  })

  it('ends a session at its request count and its lifetime with a sealed notice; the client agrees a new one', async () => {
    let now = Date.now()
    const clock = { now: () => now }
    const keyring = await Keyring.create({ agreementKeys: [hybridKey('pq-1')], clock })
    const app = await start(keyring, { maxRequests: 2, ttlMs: 60_000, clock })
    const session = await agreeSession(app.url)
    expect((await sendWith(app.url, session)).response.status).toBe(200)
    expect((await sendWith(app.url, session)).response.status).toBe(200)
    const spent = await sendWith(app.url, session)
    expect(spent.response.status).toBe(401)
    expect(spent.body.error).toMatchObject({
      code: 'CONTINUUM_KEY_RETIRED',
      session: 'exhausted',
    })
    expect(sealedFor(session, spent)).toBe(true)

    const fresh = await agreeSession(app.url)
    now += 120_000
    const expired = await sendWith(app.url, fresh)
    expect(expired.response.status).toBe(401)
    expect(expired.body.error).toMatchObject({
      code: 'CONTINUUM_KEY_RETIRED',
      session: 'expired',
    })
    expect(sealedFor(fresh, expired)).toBe(true)

    // Through the SDK: three questions over two-request sessions, renewed without the SDK noticing.
    now = Date.now()
    const relay = relayFetch()
    const client = openaiClient(app.url, {
      agreement: { fingerprint: keyring.published()!.fingerprint },
      fetch: relay.fetch,
    })
    for (let index = 0; index < 3; index += 1) expect(await ask(client)).toBe(replyFor(SECRET))
    expect(relay.requests.filter((entry) => entry.url.endsWith(SESSION_PATH))).toHaveLength(2)
  })

  it('bounds a session across instances sharing one store, and a replayed handshake spends the same count', async () => {
    const store = new MemoryStateStore()
    const keyring = await Keyring.create({ agreementKeys: [hybridKey('pq-1')] })
    const first = await start(keyring, { store, maxRequests: 2 })
    const second = await start(keyring, { store, maxRequests: 2 })
    const relay = relayFetch()
    const session = await agreeSession(first.url, relay.fetch)
    expect((await sendWith(first.url, session)).response.status).toBe(200)
    // The handshake posted again (as a relay could): the same transcript names the same session.
    const replayed = await fetch(`${second.url}${SESSION_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: relay.requests[0]!.body,
    })
    expect(replayed.status).toBe(200)
    const { session: ticket, expiresAt } = (await replayed.json()) as { session: string; expiresAt: number }
    expect(ticket).not.toBe(session.resolved.headers[HEADERS.ephemeralKey])
    expect(expiresAt).toBe(session.expiresAt)
    expect((await sendWith(second.url, session, ticket)).response.status).toBe(200)
    const spent = await sendWith(second.url, session)
    expect(spent.body.error).toMatchObject({ code: 'CONTINUUM_KEY_RETIRED', session: 'exhausted' })
  })

  it('ends sessions of a rotated key after its grace period; a trust-on-first-use client follows the sealed successor', async () => {
    let now = Date.now()
    const clock = { now: () => now }
    const keyring = await Keyring.create({ agreementKeys: [hybridKey('pq-old')], graceMs: 60_000, clock })
    const app = await start(keyring, { clock })
    const relay = relayFetch()
    const client = openaiClient(app.url, {
      agreement: { trustOnFirstUse: true, hybrid: 'require' },
      fetch: relay.fetch,
    })
    expect(await ask(client)).toBe(replyFor(SECRET))
    const session = await agreeSession(app.url)
    keyring.rotateAgreement(hybridKey('pq-new'))
    // In the grace period the old session still works.
    expect((await sendWith(app.url, session)).response.status).toBe(200)
    expect(await ask(client)).toBe(replyFor(SECRET))
    now += 60_001
    const retired = await sendWith(app.url, session)
    expect(retired.body.error).toMatchObject({
      code: 'CONTINUUM_KEY_RETIRED',
      successor: { keyId: 'pq-new' },
    })
    expect(sealedFor(session, retired)).toBe(true)
    expect(await ask(client)).toBe(replyFor(SECRET))
    expect(relay.requests.at(-1)!.body).toContain('cp2.pq-new.')
  })
})
