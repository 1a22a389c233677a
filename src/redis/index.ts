/**
 * `continuum-proxy/redis`: the StateStore on Redis (standalone, Sentinel, Cluster, Valkey) for
 * everything that must agree across instances. Needs the optional `redis` package.
 *
 * @example
 * const store = await createRedisStateStore({ connection: { url: 'redis://127.0.0.1:6379' } })
 * app.use(continuum({ upstream, keys, store }))
 */
export {
  type CreateRedisStateStoreOptions,
  createRedisStateStore,
  type RedisConnection,
} from './connect-redis'
export { type RedisCommands, RedisStateStore, type RedisStateStoreOptions } from './redis-state-store'
