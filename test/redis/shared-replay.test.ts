/**
 * Replay protection shared on real Redis: two Express instances, each with its own connection to
 * one Redis (standalone, then a 3-master cluster). A captured encrypted request answered by the
 * first instance is refused with 409 by the second, and the upstream sees it once; racing the
 * same request at both lets exactly one through. The nonce key lives in Redis until a window after
 * the request's timestamp leaves the window (twice the window for a request stamped now; its TTL,
 * not a generation count, decides when it may be forgotten), so an instance whose clock lags still
 * finds it; it carries no content, and nonces spread over the cluster's slots. With Redis gone, encrypted requests fail closed with
 * a coded, retryable 503 within the store timeout, and work again when it returns.
 */
import { randomBytes } from 'node:crypto'
import { createRedisStateStore, type RedisStateStore } from 'continuum-proxy/redis'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import {
  type BuiltRequest,
  encryptRequest,
  expectRefusal,
  SECRET,
  secretChat,
  sharedKeys,
} from '../conformance/support'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { startRedis } from '../support/redis-servers'
import { type SharedBackends, startBackends, storeFailures, type Topology } from './support/shared-stores'

const CHAT = '/v1/chat/completions'
const WINDOW_MS = 60_000
const express = frameworks.find((harness) => harness.name.startsWith('express') && harness.prefix === '')!

let backends: SharedBackends
let upstream: FakeUpstream

beforeAll(async () => {
  ;[backends, upstream] = await Promise.all([startBackends(), startOpenAIUpstream()])
}, 60_000)

afterAll(async () => {
  await Promise.all([backends?.stop(), upstream?.close()])
})

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

async function instances(stores: RedisStateStore[]): Promise<RunningApp[]> {
  return Promise.all(
    stores.map((store) =>
      express.start({ upstream: upstream.url, keys: sharedKeys(), store, replayWindowMs: WINDOW_MS }),
    ),
  )
}

describe.each(['standalone', 'cluster'] as Topology[])('replay protection shared on %s Redis', (topology) => {
  it('refuses on one instance a request another instance answered', async () => {
    const apps = await instances(await backends.open(topology, 2))
    const built = encryptRequest(CHAT, secretChat())
    const before = upstream.requests.length
    expect((await send(apps[0]!.url, built)).status).toBe(200)
    expectRefusal(await send(apps[1]!.url, built), 409, 'CONTINUUM_REPLAY_DETECTED')
    expectRefusal(await send(apps[0]!.url, built), 409, 'CONTINUUM_REPLAY_DETECTED')
    // Raced at both instances at once: exactly one is answered.
    const raced = encryptRequest(CHAT, secretChat())
    const statuses = (
      await Promise.all(apps.flatMap((app) => [send(app.url, raced), send(app.url, raced)]))
    ).map((response) => response.status)
    expect(statuses.sort()).toEqual([200, 409, 409, 409])
    expect(upstream.requests.length - before).toBe(2)
    await Promise.all(apps.map((app) => app.close()))
  })

  it('keeps the nonce of a request stamped now twice the window, under a key that holds nothing of the request', async () => {
    const apps = await instances(await backends.open(topology, 1))
    // 40 random nonces: all of them missing one of three masters has odds 3 × (2/3)^40 ≈ 3e-7
    // (with 12, one run in 40 would fail the spread check below by chance).
    const nonces = Array.from({ length: 40 }, () => randomBytes(16).toString('base64url'))
    for (const nonce of nonces) {
      expect((await send(apps[0]!.url, encryptRequest(CHAT, secretChat(), { nonce }))).status).toBe(200)
    }
    const url = topology === 'standalone' ? backends.server.url : undefined
    const nodes = url === undefined ? backends.cluster!.nodes.map((node) => node.url) : [url]
    const admins = await Promise.all(
      nodes.map(async (nodeUrl) => {
        const admin = createClient({ url: nodeUrl })
        await admin.connect()
        return admin
      }),
    )
    const holders = new Set<number>()
    for (const nonce of nonces) {
      const key = `continuum:nonce:conformance-k1:${nonce}`
      for (const [index, admin] of admins.entries()) {
        const ttl = Number(await admin.sendCommand(['PTTL', key]).catch(() => -2))
        if (ttl < 0) continue
        holders.add(index)
        expect(ttl).toBeGreaterThan(2 * WINDOW_MS - 5_000)
        expect(ttl).toBeLessThanOrEqual(2 * WINDOW_MS)
        const value = String(await admin.get(key))
        expect(value).toBe('1')
        expect(value + key).not.toContain(SECRET)
      }
    }
    await Promise.all(admins.map((admin) => admin.close()))
    // In a cluster, nonces carry no hash tag: they land on every master, not on one hot slot.
    if (topology === 'cluster') expect(holders.size).toBe(3)
    else expect(holders.size).toBe(1)
    await Promise.all(apps.map((app) => app.close()))
  })
})

describe('replay protection across instances whose clocks disagree', () => {
  it('refuses a request stamped ahead of the first instance when it is replayed to a lagging one', async () => {
    // The nonce now lives three windows less a millisecond; the replay comes at two and a bit, so
    // a timer that fires late by up to most of a window still tests what it should.
    const window = 3_000
    const sentAt = Date.now()
    const clockA = { now: () => sentAt }
    const clockB = { time: sentAt, now: () => clockB.time }
    const [storeA, storeB] = await backends.open('standalone', 2)
    const [appA, appB] = await Promise.all(
      [
        { store: storeA!, clock: clockA },
        { store: storeB!, clock: clockB },
      ].map(({ store, clock }) =>
        express.start({ upstream: upstream.url, keys: sharedKeys(), store, replayWindowMs: window, clock }),
      ),
    )
    // A client whose clock runs ahead: stamped at the far edge of instance A's window.
    const stamped = sentAt + window - 1
    const built = encryptRequest(CHAT, secretChat(), { timestamp: stamped })
    expect((await send(appA!.url, built)).status).toBe(200)
    // The attacker who captured it waits until twice the window has passed, then replays it to
    // instance B, whose clock lags A's by a fraction of a second: B still finds the stamp fresh.
    await new Promise((resolve) => setTimeout(resolve, 2 * window + 300))
    clockB.time = stamped + window
    // Against what A's clock reads by now: a lag within the window, the skew the fleet accepts.
    expect(Date.now() - clockB.time).toBeLessThan(window)
    const before = upstream.requests.length
    expectRefusal(await send(appB!.url, built), 409, 'CONTINUUM_REPLAY_DETECTED')
    expect(upstream.requests.length).toBe(before)
    await Promise.all([appA!.close(), appB!.close()])
  })
})

describe('replay protection when Redis is gone', () => {
  it('fails closed with a coded, retryable 503, never a hang, and recovers without a restart', async () => {
    const server = await startRedis()
    const store = await createRedisStateStore({
      connection: { url: server.url },
      timeoutMs: 200,
      maxReconnectDelayMs: 100,
    })
    const [app] = await instances([store])
    expect((await send(app!.url, encryptRequest(CHAT, secretChat()))).status).toBe(200)
    await server.kill()
    const before = upstream.requests.length
    const { events } = await storeFailures(async () => {
      const started = performance.now()
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => send(app!.url, encryptRequest(CHAT, secretChat()))),
      )
      // No hang: bounded by the store's 200 ms timeout (the bound is loose for a loaded machine).
      expect(performance.now() - started).toBeLessThan(10_000)
      for (const answer of answers) expectRefusal(answer, 503, 'CONTINUUM_STORE_UNAVAILABLE')
    })
    // Nothing went upstream unchecked.
    expect(upstream.requests.length).toBe(before)
    expect(events).toContainEqual(expect.objectContaining({ consumer: 'replay', decision: 'closed' }))
    await server.start()
    await expect
      .poll(async () => (await send(app!.url, encryptRequest(CHAT, secretChat()))).status, {
        timeout: 10_000,
        interval: 100,
      })
      .toBe(200)
    await app!.close()
    await store.close()
    await server.stop()
  })
})
