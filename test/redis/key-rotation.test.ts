/**
 * Key rotation for a fleet through a reloading key source: two Express instances, each with its
 * own KeyringReloader and the same clock. A new key scheduled in the key file (or in a Redis
 * schedule holding only ids and times) is picked up by a reload before its moment; at that moment
 * both instances make it primary, the old key keeps decrypting for the grace period on both,
 * and right after it both refuse the old key with 401 CONTINUUM_KEY_RETIRED. A key removed from
 * the schedule is refused at once. A malformed source is refused whole, naming no value, and the
 * last schedule stays in force; so does it while Redis is gone. Redis never holds key material.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  fileKeySource,
  KEY_SCHEDULE_KEY,
  KeyringReloader,
  type KeySource,
  publishKeySchedule,
  storeKeySource,
} from 'continuum-proxy'
import { createRedisStateStore } from 'continuum-proxy/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { frameworks, type RunningApp } from '../conformance/frameworks'
import { encryptRequest, secretChat } from '../conformance/support'
import { startOpenAIUpstream } from '../kit/openai-echo'
import type { FakeUpstream } from '../kit/server'
import { startRedis } from '../support/redis-servers'
import { type SharedBackends, startBackends, storeFailures, type Topology } from './support/shared-stores'

const CHAT = '/v1/chat/completions'
const GRACE_MS = 60_000
const express = frameworks.find((harness) => harness.name === 'express')!
const material = { k1: randomBytes(32), k2: randomBytes(32), k3: randomBytes(32) }
const encodings = Object.values(material).flatMap((key) => [key.toString('base64'), key.toString('hex')])

let backends: SharedBackends
let upstream: FakeUpstream
let directory: string

beforeAll(async () => {
  ;[backends, upstream, directory] = await Promise.all([
    startBackends(),
    startOpenAIUpstream(),
    mkdtemp(join(tmpdir(), 'continuum-keys-')),
  ])
}, 60_000)

afterAll(async () => {
  await Promise.all([backends?.stop(), upstream?.close(), rm(directory, { recursive: true, force: true })])
})

function manualClock(start: number) {
  let time = start
  return { now: () => time, set: (value: number) => (time = value) }
}

interface Fleet {
  reloaders: KeyringReloader[]
  apps: RunningApp[]
  /** The status and code each instance answers a fresh request under `keyId`. */
  answers(keyId: keyof typeof material): Promise<{ status: number; code?: string }[]>
  close(): Promise<void>
}

async function fleet(sources: KeySource[], clock: { now(): number }): Promise<Fleet> {
  const reloaders = await Promise.all(
    sources.map((source) => KeyringReloader.start({ source, clock, intervalMs: 60_000 })),
  )
  const apps = await Promise.all(
    reloaders.map((reloader) => express.start({ upstream: upstream.url, keys: reloader.keyring, clock })),
  )
  return {
    reloaders,
    apps,
    async answers(keyId) {
      return Promise.all(
        apps.map(async (app) => {
          const built = encryptRequest(CHAT, secretChat(), {
            keyId,
            key: material[keyId],
            timestamp: clock.now(),
          })
          const response = await fetch(app.url + CHAT, {
            method: 'POST',
            headers: built.headers,
            body: JSON.stringify(built.body),
          })
          const text = await response.text()
          for (const encoding of encodings) expect(text).not.toContain(encoding)
          return response.status === 200
            ? { status: 200 }
            : { status: response.status, code: (JSON.parse(text) as { error: { code: string } }).error.code }
        }),
      )
    },
    async close() {
      for (const reloader of reloaders) reloader.close()
      await Promise.all(apps.map((app) => app.close()))
    },
  }
}

const retired = { status: 401, code: 'CONTINUUM_KEY_RETIRED' }

describe('key rotation from a key file', () => {
  it('switches every instance at the scheduled moment and retires the old key after the grace period', async () => {
    const path = join(directory, `keys-${randomUUID()}.json`)
    const start = Date.now()
    const at = start + 10 * 60_000
    const write = (keys: object[], extra: object = {}) =>
      writeFile(path, JSON.stringify({ graceMs: GRACE_MS, keys, ...extra }))
    const k1 = {
      id: 'k1',
      key: material.k1.toString('base64'),
      activatesAt: new Date(start - 60_000).toISOString(),
    }
    await write([k1])
    const clock = manualClock(start)
    const cluster = await fleet([fileKeySource(path), fileKeySource(path)], clock)
    expect(cluster.reloaders.map((reloader) => reloader.keyring.primary?.id)).toEqual(['k1', 'k1'])

    await write([k1, { id: 'k2', key: material.k2.toString('hex'), activatesAt: at }])
    for (const reloader of cluster.reloaders)
      expect(await reloader.reload()).toEqual({ added: ['k2'], removed: [] })
    // Loaded before its moment: clients that switch early are served, but k1 stays primary.
    expect(cluster.reloaders.map((reloader) => reloader.keyring.primary?.id)).toEqual(['k1', 'k1'])
    expect(await cluster.answers('k2')).toEqual([{ status: 200 }, { status: 200 }])

    clock.set(at)
    expect(cluster.reloaders.map((reloader) => reloader.keyring.primary?.id)).toEqual(['k2', 'k2'])
    clock.set(at + GRACE_MS - 1)
    expect(await cluster.answers('k1')).toEqual([{ status: 200 }, { status: 200 }])
    clock.set(at + GRACE_MS + 1)
    expect(await cluster.answers('k1')).toEqual([retired, retired])
    expect(await cluster.answers('k2')).toEqual([{ status: 200 }, { status: 200 }])

    // A malformed file is refused whole, quoting none of it; the last schedule stays in force.
    await writeFile(path, `{"keys": [{"id": "k3", "key": "${material.k3.toString('base64')}", `)
    const failure = await cluster.reloaders[0]!.reload().catch((error: Error) => error)
    expect(failure).toMatchObject({ code: 'CONTINUUM_KEY_SOURCE_INVALID' })
    for (const encoding of encodings)
      expect(JSON.stringify(failure) + String(failure)).not.toContain(encoding)
    expect(await cluster.answers('k2')).toEqual([{ status: 200 }, { status: 200 }])

    // A key taken out of the schedule is refused at once on every instance that reloads.
    await write([{ id: 'k3', key: material.k3.toString('base64'), activatesAt: at + GRACE_MS }])
    for (const reloader of cluster.reloaders) await reloader.reload()
    expect(await cluster.answers('k2')).toEqual([
      { status: 401, code: 'CONTINUUM_KEY_RETIRED' },
      { status: 401, code: 'CONTINUUM_KEY_RETIRED' },
    ])
    expect(await cluster.answers('k3')).toEqual([{ status: 200 }, { status: 200 }])
    await cluster.close()
  })

  it('reloads on its own every interval', async () => {
    const path = join(directory, `keys-${randomUUID()}.json`)
    const keys = [{ id: 'k1', key: material.k1.toString('base64'), activatesAt: 0 }]
    await writeFile(path, JSON.stringify({ keys }))
    const reloader = await KeyringReloader.start({ source: fileKeySource(path), intervalMs: 50 })
    expect(() => reloader.keyring.resolve('k3')).toThrow(/no key with the request's key id/)
    await writeFile(
      path,
      JSON.stringify({ keys: [...keys, { id: 'k3', key: material.k3.toString('base64'), activatesAt: 1 }] }),
    )
    await expect.poll(() => reloader.keyring.primary?.id, { timeout: 2_000 }).toBe('k3')
    reloader.close()
  })
})

describe.each(['standalone', 'cluster'] as Topology[])(
  'key rotation from a schedule on %s Redis',
  (topology) => {
    it('switches and retires fleet-wide from ids and times alone', async () => {
      const [writer, one, two] = await backends.open(topology, 3)
      const start = Date.now()
      const at = start + 10 * 60_000
      await publishKeySchedule(writer!, {
        graceMs: GRACE_MS,
        keys: [{ id: 'k1', activatesAt: start - 60_000 }],
      })
      const keys = [
        { id: 'k1', key: material.k1 },
        { id: 'k2', key: material.k2 },
      ]
      const clock = manualClock(start)
      const cluster = await fleet(
        [storeKeySource({ store: one!, keys }), storeKeySource({ store: two!, keys })],
        clock,
      )
      await publishKeySchedule(writer!, {
        graceMs: GRACE_MS,
        keys: [
          { id: 'k1', activatesAt: start - 60_000 },
          { id: 'k2', activatesAt: new Date(at).toISOString() },
        ],
      })
      for (const reloader of cluster.reloaders) await reloader.reload()
      expect(cluster.reloaders.map((reloader) => reloader.keyring.primary?.id)).toEqual(['k1', 'k1'])
      clock.set(at)
      expect(cluster.reloaders.map((reloader) => reloader.keyring.primary?.id)).toEqual(['k2', 'k2'])
      clock.set(at + GRACE_MS + 1)
      expect(await cluster.answers('k1')).toEqual([retired, retired])
      expect(await cluster.answers('k2')).toEqual([{ status: 200 }, { status: 200 }])

      // What Redis holds: ids and times. Material written there by anyone is refused, not used.
      const held = (await writer!.get(KEY_SCHEDULE_KEY))!
      expect(JSON.parse(held)).toEqual({
        graceMs: GRACE_MS,
        keys: [
          { id: 'k1', activatesAt: start - 60_000 },
          { id: 'k2', activatesAt: new Date(at).toISOString() },
        ],
      })
      for (const encoding of encodings) expect(held).not.toContain(encoding)
      await writer!.set(
        KEY_SCHEDULE_KEY,
        JSON.stringify({ keys: [{ id: 'k9', key: randomBytes(32).toString('base64'), activatesAt: 0 }] }),
      )
      await expect(cluster.reloaders[0]!.reload()).rejects.toMatchObject({
        code: 'CONTINUUM_KEY_SOURCE_INVALID',
      })
      expect(await cluster.answers('k2')).toEqual([{ status: 200 }, { status: 200 }])
      await cluster.close()
    })

    it('never brings back a key past its grace period, whatever Redis says next', async () => {
      const [writer, one, two] = await backends.open(topology, 3)
      const start = Date.now()
      const at = start + 10 * 60_000
      const schedule = [
        { id: 'k1', activatesAt: start - 60_000 },
        { id: 'k2', activatesAt: at },
      ]
      const keys = [
        { id: 'k1', key: material.k1 },
        { id: 'k2', key: material.k2 },
      ]
      // Someone with write access to Redis (and k1, leaked after its retirement) postpones k2,
      // drops it, or stretches the grace period: each would make k1 decrypt again.
      const rewrites = [
        { graceMs: GRACE_MS, keys: [schedule[0]!, { id: 'k2', activatesAt: at + 86_400_000 }] },
        { graceMs: GRACE_MS, keys: [schedule[0]!] },
        { graceMs: 86_400_000, keys: schedule },
      ]
      for (const rewrite of rewrites) {
        await publishKeySchedule(writer!, { graceMs: GRACE_MS, keys: schedule })
        const clock = manualClock(start)
        const cluster = await fleet(
          [storeKeySource({ store: one!, keys }), storeKeySource({ store: two!, keys })],
          clock,
        )
        // k1's grace ends; clients moved to k2, so no request has named k1 since.
        clock.set(at + GRACE_MS + 1)
        expect(await cluster.answers('k2')).toEqual([{ status: 200 }, { status: 200 }])
        for (const reloader of cluster.reloaders) await reloader.reload()
        await publishKeySchedule(writer!, rewrite)
        for (const reloader of cluster.reloaders) await reloader.reload()
        expect(await cluster.answers('k1')).toEqual([retired, retired])
        await cluster.close()
      }
    })
  },
)

describe('key rotation while Redis is gone', () => {
  it('keeps the last schedule and reports the failure', async () => {
    const server = await startRedis()
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 200 })
    await publishKeySchedule(store, { keys: [{ id: 'k1', activatesAt: 0 }] })
    const reloader = await KeyringReloader.start({
      source: storeKeySource({ store, keys: [{ id: 'k1', key: material.k1 }] }),
      intervalMs: 50,
    })
    await server.kill()
    const { events } = await storeFailures(() => new Promise((resolve) => setTimeout(resolve, 400)))
    expect(events).toContainEqual(expect.objectContaining({ consumer: 'key-schedule', decision: 'open' }))
    expect(reloader.keyring.primary?.id).toBe('k1')
    expect(reloader.keyring.resolve('k1').id).toBe('k1')
    reloader.close()
    await store.close()
    await server.stop()
  })
})
