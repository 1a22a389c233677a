/**
 * Connecting the Redis store: loads the optional `redis` package (node-redis) only here, builds a
 * client or a cluster client that never queues commands while disconnected (so a Redis outage
 * fails requests at once instead of piling them up), reconnects with capped backoff forever, and
 * waits a bounded time for the first connection.
 */
import { ContinuumError } from '../errors'
import { isPackageNotFound } from '../internal/optional-dependency'
import { type RedisCommands, RedisStateStore, type RedisStateStoreOptions } from './redis-state-store'

/** Where Redis is: one server (or a Sentinel-free standalone), a cluster, or a client you built. */
export type RedisConnection =
  /** `redis://[user:password@]host:port[/db]` or `rediss://...` for TLS. */
  | { readonly url: string }
  /** Some nodes of a Redis Cluster; the client discovers the rest. */
  | { readonly cluster: { readonly rootNodes: readonly string[] } }
  /** A ready node-redis client, cluster or sentinel client (you connect and close it). */
  | { readonly client: RedisCommands }

/** Options of {@link createRedisStateStore}. */
export interface CreateRedisStateStoreOptions
  extends Omit<RedisStateStoreOptions, 'client' | 'ownsClient' | 'quit'> {
  readonly connection: RedisConnection
  /**
   * Longest wait for the first connection, in milliseconds; afterwards a lost connection is
   * re-established in the background.
   * @default 5000
   */
  readonly connectTimeoutMs?: number
  /**
   * Longest pause between reconnection attempts, in milliseconds.
   * @default 2000
   */
  readonly maxReconnectDelayMs?: number
}

interface RedisModule {
  createClient(options: Record<string, unknown>): ConnectableClient
  createCluster(options: Record<string, unknown>): ConnectableClient
}

interface ConnectableClient extends RedisCommands {
  connect(): Promise<unknown>
  on(event: 'error', listener: (error: unknown) => void): unknown
  close?(): Promise<unknown>
  quit?(): Promise<unknown>
  destroy?(): unknown
}

async function loadRedis(): Promise<RedisModule> {
  try {
    return (await import('redis')) as unknown as RedisModule
  } catch (error) {
    if (!isPackageNotFound(error, 'redis')) throw error
    throw new ContinuumError(
      'CONTINUUM_DEPENDENCY_MISSING',
      'The Redis store needs the "redis" package: npm install redis',
      { cause: error },
    )
  }
}

/** Whether `url` is a URL node-redis connects to (it takes no other scheme). */
function isRedisUrl(url: unknown): boolean {
  if (typeof url !== 'string' || !URL.canParse(url)) return false
  const { protocol } = new URL(url)
  return protocol === 'redis:' || protocol === 'rediss:'
}

/** Connects to Redis and returns the store; rejects with CONTINUUM_STORE_UNAVAILABLE when it cannot. */
export async function createRedisStateStore(options: CreateRedisStateStoreOptions): Promise<RedisStateStore> {
  const connection = options?.connection
  if (typeof connection !== 'object' || connection === null) {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'createRedisStateStore: connection is required')
  }
  if ('client' in connection) return new RedisStateStore({ ...options, client: connection.client })
  const urls = 'url' in connection ? [connection.url] : (connection.cluster?.rootNodes ?? [])
  if (urls.length === 0 || !urls.every(isRedisUrl)) {
    // Never echoed: a Redis URL carries its password. (node-redis's own error would: Node's
    // ERR_INVALID_URL keeps the whole input on the error it throws.)
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      'createRedisStateStore: connection URLs must be redis:// or rediss:// URLs',
    )
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? 5_000
  const maxDelay = options.maxReconnectDelayMs ?? 2_000
  const socket = {
    connectTimeout: connectTimeoutMs,
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), maxDelay),
  }
  const redis = await loadRedis()
  const client =
    'url' in connection
      ? redis.createClient({ url: connection.url, disableOfflineQueue: true, socket })
      : redis.createCluster({
          rootNodes: connection.cluster.rootNodes.map((url) => ({ url })),
          defaults: { disableOfflineQueue: true, socket },
        })
  // node-redis emits every connection failure as an error event; without a listener it would crash the process.
  client.on('error', () => undefined)
  let timer: NodeJS.Timeout | undefined
  try {
    await Promise.race([
      client.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('connect timeout')), connectTimeoutMs)
      }),
    ])
  } catch (error) {
    client.destroy?.()
    throw new ContinuumError('CONTINUUM_STORE_UNAVAILABLE', 'Could not connect to the shared state store', {
      cause: error,
    })
  } finally {
    clearTimeout(timer)
  }
  return new RedisStateStore({
    ...options,
    client,
    ownsClient: true,
    quit: () => (client.close ?? client.quit)?.call(client) ?? Promise.resolve(),
  })
}
