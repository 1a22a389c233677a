/**
 * Replay memory under a flood (hardening item 4). The old window turned a generation over at a
 * hard-coded million nonces, so after 2,000,001 fresh requests a captured one replayed inside its
 * window got 200. Now a nonce is never forgotten inside its window: at `replayCapacity` the proxy
 * refuses new encrypted requests with 503 CONTINUUM_REPLAY_CAPACITY_EXCEEDED (retryable, with
 * Retry-After) and a replay is still 409. Driven on real sockets in every framework with a small
 * capacity and the proxy's injected clock, and on the window itself with a quarter million.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NonceWindow } from '../../src/cipher/nonce-window'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import {
  type BuiltRequest,
  encryptRequest,
  expectRefusal,
  secretChat,
  sharedKeys,
} from '../conformance/support'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'

const CHAT = '/v1/chat/completions'
const CAPACITY = 40
const WINDOW_MS = 60_000

async function send(url: string, built: BuiltRequest) {
  const response = await fetch(url + CHAT, {
    method: 'POST',
    headers: built.headers,
    body: JSON.stringify(built.body),
  })
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    text: await response.text(),
  }
}

describe.each(frameworks.filter((harness) => harness.prefix === ''))('replay flood via $name', (harness) => {
  let upstream: FakeUpstream
  let app: RunningApp
  let now = Date.now()
  const clock = { now: () => now }

  beforeAll(async () => {
    upstream = await startOpenAIUpstream()
    app = await harness.start({
      upstream: upstream.url,
      keys: sharedKeys(),
      replayWindowMs: WINDOW_MS,
      replayCapacity: CAPACITY,
      clock,
    })
  })
  afterAll(async () => {
    await app.close()
    await upstream.close()
  })

  it('refuses fresh nonces past capacity with a retryable 503 and still refuses every replay with 409', async () => {
    const accepted: BuiltRequest[] = []
    for (let index = 0; index < CAPACITY; index++) {
      const built = encryptRequest(CHAT, secretChat(), { timestamp: now })
      expect((await send(app.url, built)).status).toBe(200)
      accepted.push(built)
    }
    const forwarded = upstream.requests.length
    for (let index = 0; index < 5; index++) {
      const flood = await send(app.url, encryptRequest(CHAT, secretChat(), { timestamp: now }))
      expectRefusal(flood, 503, 'CONTINUUM_REPLAY_CAPACITY_EXCEEDED')
      expect(Number(flood.headers['retry-after'])).toBeGreaterThan(0)
    }
    for (const built of [accepted[0]!, accepted[CAPACITY - 1]!]) {
      expectRefusal(await send(app.url, built), 409, 'CONTINUUM_REPLAY_DETECTED')
    }
    expect(upstream.requests.length).toBe(forwarded)

    // Just inside the memory's guarantee (twice the window): the first nonces are still held.
    now += 2 * WINDOW_MS - 1
    const late = { ...accepted[0]!, headers: { ...accepted[0]!.headers } }
    expectRefusal(await send(app.url, late), 400, 'CONTINUUM_TIMESTAMP_OUT_OF_WINDOW')
    expectRefusal(
      await send(app.url, encryptRequest(CHAT, secretChat(), { timestamp: now })),
      503,
      'CONTINUUM_REPLAY_CAPACITY_EXCEEDED',
    )

    // Once the oldest generation expired there is room again.
    now += (2 * WINDOW_MS) / 3 + 1
    expect((await send(app.url, encryptRequest(CHAT, secretChat(), { timestamp: now }))).status).toBe(200)
  })
})

describe('NonceWindow under a flood', () => {
  it('never forgets a nonce inside its span, however many arrive', () => {
    let now = 0
    const span = 600_000
    const capacity = 250_000
    const window = new NonceWindow(span, capacity, { now: () => now })
    const first = randomBytes(16).toString('base64url')
    expect(window.add(first)).toBe('fresh')
    const seed = randomBytes(8).toString('hex')
    let full = 0
    for (let index = 0; index < capacity + 1; index++) {
      if (window.add(`${seed}:${index}`) === 'full') full++
    }
    expect(window.size).toBe(capacity)
    expect(full).toBe(2)
    expect(window.add(first)).toBe('seen')
    expect(window.add(`${seed}:0`)).toBe('seen')
    expect(window.add(`${seed}:${capacity - 2}`)).toBe('seen')
    // Memory: 16 bytes a slot, tables between 3/8 and 3/4 full.
    expect(window.bytes / window.size).toBeLessThanOrEqual(16 / 0.375)
    now = span - 1
    expect(window.add(first)).toBe('seen')
    now = Math.ceil((span * 4) / 3)
    expect(window.add(first)).toBe('fresh')
    expect(window.size).toBe(1)
  })

  it('answers full only for fresh nonces and names when there is room again', () => {
    let now = 1_000
    const window = new NonceWindow(300, 3, { now: () => now })
    for (const nonce of ['a', 'b', 'c']) expect(window.add(nonce)).toBe('fresh')
    expect(window.add('d')).toBe('full')
    expect(window.add('a')).toBe('seen')
    expect(window.retryAfterMs()).toBe(400)
    now += 399
    expect(window.add('d')).toBe('full')
    expect(window.add('c')).toBe('seen')
    now += 1
    expect(window.add('d')).toBe('fresh')
    expect(window.add('a')).toBe('fresh')
  })
})
