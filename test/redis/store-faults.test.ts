/**
 * Redis faults have a defined answer, never a hang: with the server killed mid-traffic every
 * operation rejects with CONTINUUM_STORE_UNAVAILABLE (retryable, 503) within the store's timeout,
 * the failure is counted and logged once without keys or values, and the same store works again
 * once the server is back, without a restart. A slow server times out the same way; a key whose
 * cluster slot moves to another master stays readable and writable; a server that is not there at
 * start-up is reported at once; a URL node-redis cannot take is refused without being echoed; and
 * without the optional `redis` package the error names it.
 */
import { randomUUID } from 'node:crypto'
import { inspect } from 'node:util'
import { createRedisStateStore, RedisStateStore } from 'continuum-proxy/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedPort } from '../kit/server'
import { type RedisCluster, type RedisServer, startRedis, startRedisCluster } from '../support/redis-servers'

describe('Redis store faults', () => {
  let server: RedisServer
  let cluster: RedisCluster

  beforeAll(async () => {
    // DEBUG SLEEP stands in for an overloaded server.
    ;[server, cluster] = await Promise.all([
      startRedis(['--enable-debug-command', 'yes']),
      startRedisCluster(),
    ])
  }, 60_000)

  afterAll(async () => {
    await Promise.all([server?.stop(), cluster?.stop()])
  })

  it('rejects with a coded error while Redis is down, and recovers when it returns', async () => {
    const failures: string[] = []
    const lines: string[] = []
    const store = await createRedisStateStore({
      connection: { url: server.url },
      timeoutMs: 200,
      maxReconnectDelayMs: 100,
      onFailure: (kind) => failures.push(kind),
      logger: {
        debug() {},
        info() {},
        warn: (fields, message) => lines.push(`${message} ${JSON.stringify(fields)}`),
        error() {},
      },
    })
    const key = `{fault-${randomUUID()}}:nonce`
    expect(await store.setIfAbsent(key, 'secret-value', 60_000)).toBe(true)
    await server.kill()
    const started = performance.now()
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.setIfAbsent(`${key}-${randomUUID()}`, 'secret-value', 60_000)),
    )
    // No hang: every call settled within the timeout and a margin.
    expect(performance.now() - started).toBeLessThan(2_000)
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected')
      expect((outcome as PromiseRejectedResult).reason).toMatchObject({
        code: 'CONTINUUM_STORE_UNAVAILABLE',
        status: 503,
        isRetryable: true,
      })
    }
    expect(failures.length).toBe(20)
    expect(lines.length).toBe(1)
    expect(lines.join('\n')).not.toContain('secret-value')
    expect(lines.join('\n')).not.toContain('fault-')
    await server.start()
    await expect
      .poll(
        () =>
          store.get(key).then(
            () => 'answered',
            () => 'down',
          ),
        { timeout: 10_000, interval: 100 },
      )
      .toBe('answered')
    // The data is gone with the killed process (no persistence in the test): a fresh key works.
    expect(await store.setIfAbsent(`${key}-after`, 'x', 60_000)).toBe(true)
    await store.close()
  })

  it('times out a server that stops answering', async () => {
    const store = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 100 })
    const blocker = await createRedisStateStore({ connection: { url: server.url }, timeoutMs: 5_000 })
    // DEBUG SLEEP stalls the whole single-threaded server, as an overloaded one would.
    const { createClient } = await import('redis')
    const admin = createClient({ url: server.url })
    await admin.connect()
    admin.on('error', () => undefined)
    const stall = admin.sendCommand(['DEBUG', 'SLEEP', '0.5'])
    await new Promise((resolve) => setTimeout(resolve, 20))
    await expect(store.get('{slow}:key')).rejects.toMatchObject({ code: 'CONTINUUM_STORE_UNAVAILABLE' })
    await stall
    expect(await store.get('{slow}:key')).toBeUndefined()
    await Promise.all([store.close(), blocker.close(), admin.close()])
  })

  it('follows a key whose cluster slot moves to another master', async () => {
    const store = await createRedisStateStore({ connection: { cluster: { rootNodes: cluster.rootNodes } } })
    const key = `{moving-${randomUUID()}}:budget`
    const slot = await cluster.slotOf(`continuum:${key}`)
    await store.increment(key, 2, 60_000)
    const from = await cluster.ownerOf(slot)
    await cluster.moveSlot(slot, (from + 1) % 3)
    expect(await cluster.ownerOf(slot)).toBe((from + 1) % 3)
    expect(await store.increment(key, 3, 60_000)).toBe(5)
    expect(await store.chargeWithin([{ key, amount: 1, limit: 6 }], 60_000)).toEqual({
      accepted: true,
      values: [6],
    })
    await store.close()
  })

  it('reports a server that is not there at start-up instead of waiting for it', async () => {
    const port = await closedPort()
    const started = performance.now()
    await expect(
      createRedisStateStore({ connection: { url: `redis://127.0.0.1:${port}` }, connectTimeoutMs: 300 }),
    ).rejects.toMatchObject({ code: 'CONTINUUM_STORE_UNAVAILABLE' })
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('refuses a URL node-redis cannot take, without echoing it (a Redis URL carries its password)', async () => {
    const urls = [
      'http://user:hunter2-secret@127.0.0.1:6379',
      'redis://user:hunter2-secret@127.0.0.1:99999',
      'redis//user:hunter2-secret@localhost',
    ]
    for (const url of urls) {
      const failure = await createRedisStateStore({ connection: { url } }).catch((error: unknown) => error)
      expect(failure).toMatchObject({ code: 'CONTINUUM_INVALID_OPTIONS' })
      expect(inspect(failure, { depth: 10 })).not.toContain('hunter2')
    }
    const cluster = await createRedisStateStore({
      connection: { cluster: { rootNodes: ['redis://127.0.0.1:7000', 'tcp://user:hunter2-secret@h:1'] } },
    }).catch((error: unknown) => error)
    expect(cluster).toMatchObject({ code: 'CONTINUUM_INVALID_OPTIONS' })
    expect(inspect(cluster, { depth: 10 })).not.toContain('hunter2')
  })

  it('refuses a client that is not a Redis client, and a prefix with braces', () => {
    expect(() => new RedisStateStore({ client: {} as never })).toThrow(/node-redis client/)
    expect(
      () =>
        new RedisStateStore({
          client: { get() {}, evalSha() {}, withTypeMapping: () => ({}) } as never,
          prefix: 'a{b}',
        }),
    ).toThrow(/braces/)
  })
})
