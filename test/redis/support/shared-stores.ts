/**
 * Real Redis backends for the shared-state tests: a standalone redis-server and a 3-master
 * cluster, started once per file, each opened as several independent stores (separate
 * connections, as separate instances would have), with every store closed at the end.
 */
import type { StateStore } from 'continuum-proxy'
import { createRedisStateStore, type RedisStateStore } from 'continuum-proxy/redis'
import {
  type RedisCluster,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from '../../support/redis-servers'

/** Which deployment a test runs against. */
export type Topology = 'standalone' | 'cluster'

/** The servers of one test file and the stores opened on them. */
export interface SharedBackends {
  server: RedisServer
  cluster: RedisCluster | undefined
  /** Opens `count` stores on a topology, each on its own connection. */
  open(topology: Topology, count: number, timeoutMs?: number): Promise<RedisStateStore[]>
  stop(): Promise<void>
}

export async function startBackends(options: { cluster?: boolean } = {}): Promise<SharedBackends> {
  const [server, cluster] = await Promise.all([
    startRedis(),
    options.cluster === false ? Promise.resolve(undefined) : startRedisCluster(),
  ])
  const opened: StateStore[] = []
  return {
    server,
    cluster,
    async open(topology, count, timeoutMs = 1_000) {
      const connection =
        topology === 'standalone' ? { url: server.url } : { cluster: { rootNodes: cluster!.rootNodes } }
      const stores = await Promise.all(
        Array.from({ length: count }, () => createRedisStateStore({ connection, timeoutMs })),
      )
      opened.push(...stores)
      return stores
    },
    async stop() {
      await Promise.allSettled(opened.map((store) => store.close?.()))
      await Promise.all([server.stop(), cluster?.stop()])
    },
  }
}

/** Collects the `continuum:store` failure events published while `run` runs. */
export async function storeFailures<T>(run: () => Promise<T>): Promise<{ value: T; events: unknown[] }> {
  const { default: diagnosticsChannel } = await import('node:diagnostics_channel')
  const { STORE_DIAGNOSTICS_CHANNEL } = await import('continuum-proxy')
  const events: unknown[] = []
  const listener = (message: unknown) => events.push(message)
  diagnosticsChannel.subscribe(STORE_DIAGNOSTICS_CHANNEL, listener)
  try {
    return { value: await run(), events }
  } finally {
    diagnosticsChannel.unsubscribe(STORE_DIAGNOSTICS_CHANNEL, listener)
  }
}
