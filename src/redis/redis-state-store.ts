/**
 * The StateStore on Redis (standalone, Sentinel, Cluster, or Valkey) through the official
 * node-redis client. Every operation is one round trip (a plain command or one Lua script), runs
 * under a short timeout, and fails with CONTINUUM_STORE_UNAVAILABLE instead of hanging when Redis
 * is slow or gone; commands are never queued while the connection is down. Keys get a
 * configurable prefix; callers put the keys one operation touches under one hash tag. A lease
 * whose caller stopped waiting (the timeout) can still be granted when the late round trip
 * lands; such a late grant is given straight back, so a slow moment of Redis never leaves a
 * concurrency slot (or a key quota) taken by nobody until its lease runs out.
 */
import { createHash } from 'node:crypto'
import { type Clock, systemClock } from '../core/clock'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import { brand } from '../internal/brand'
import { assertWeight } from '../stores/memory-state-store'
import type { StateStore, StoreCharge, StoreChargeResult } from '../stores/state-store'
import { ACQUIRE_LEASE, CHARGE_WITHIN, INCREMENT, RETURN_LEASE } from './redis-scripts'

/** What the store needs of a node-redis client or cluster (both have these commands). */
export interface RedisCommands {
  get(key: string): Promise<unknown>
  set(key: string, value: string | Buffer, options?: Record<string, unknown>): Promise<unknown>
  del(key: string): Promise<unknown>
  hDel(key: string, field: string): Promise<unknown>
  pExpire(key: string, milliseconds: number): Promise<unknown>
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  withTypeMapping(mapping: Record<number, unknown>): RedisCommands
}

/** Options of {@link RedisStateStore}. */
export interface RedisStateStoreOptions {
  /** A connected client or cluster from `redis` (`createClient()`, `createCluster()`, `createSentinel()`). */
  client: RedisCommands
  /**
   * Prefix of every key, e.g. to share one Redis between applications. No braces: hash tags are the callers'.
   * @default 'continuum:'
   */
  prefix?: string
  /**
   * Longest wait for one operation, in milliseconds.
   * @default 250
   */
  timeoutMs?: number
  /**
   * Closes the client with the store.
   * @default false (the client belongs to the caller)
   */
  ownsClient?: boolean
  /** Called on the client's `quit`; set by {@link createRedisStateStore}. */
  quit?: () => Promise<unknown>
  /**
   * Receives content-free messages when Redis fails (no keys, no values).
   * @default silentLogger
   */
  logger?: Logger
  /**
   * Time source for rate-limiting the failure messages.
   * @default systemClock
   */
  clock?: Clock
  /**
   * Called with the kind of every failure (`timeout`, `unavailable`), e.g. to count them in a metric.
   * @default undefined
   */
  onFailure?: (kind: 'timeout' | 'unavailable') => void
}

/** RESP type of bulk strings, for reading binary values as Buffers. */
const BLOB_STRING = 36

interface Script {
  readonly source: string
  readonly sha: string
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') }
}

const SCRIPTS = {
  increment: script(INCREMENT),
  charge: script(CHARGE_WITHIN),
  lease: script(ACQUIRE_LEASE),
  returnLease: script(RETURN_LEASE),
}

/** The first element of ACQUIRE_LEASE's reply when the units were taken anew (not renewed). */
const TAKEN = 1

/** A TTL as Redis takes it: whole milliseconds, at least one. */
function milliseconds(ttlMs: number): number {
  return Math.max(1, Math.ceil(ttlMs))
}

function invalid(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `RedisStateStore: ${message}`)
}

class Timeout extends Error {}

/** A {@link StateStore} on Redis; build it with {@link createRedisStateStore} or from your own client. */
export class RedisStateStore implements StateStore {
  readonly #client: RedisCommands
  readonly #bytes: RedisCommands
  readonly #prefix: string
  readonly #timeoutMs: number
  readonly #logger: Logger
  readonly #clock: Clock
  readonly #onFailure: RedisStateStoreOptions['onFailure']
  readonly #close: (() => Promise<unknown>) | undefined
  /** Lease calls answered after their caller gave up, until any lease they took is given back. */
  readonly #lateLeases = new Set<Promise<void>>()
  #lastWarning = Number.NEGATIVE_INFINITY

  constructor(options: RedisStateStoreOptions) {
    const client = options?.client
    if (typeof client?.get !== 'function' || typeof client.evalSha !== 'function') {
      throw invalid('client must be a node-redis client or cluster')
    }
    const prefix = options.prefix ?? 'continuum:'
    if (typeof prefix !== 'string' || /[{}]/.test(prefix))
      throw invalid('prefix must be a string without braces')
    const timeoutMs = options.timeoutMs ?? 250
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw invalid('timeoutMs must be a positive number')
    this.#client = client
    this.#bytes = client.withTypeMapping({ [BLOB_STRING]: Buffer })
    this.#prefix = prefix
    this.#timeoutMs = timeoutMs
    this.#logger = options.logger ?? silentLogger
    this.#clock = options.clock ?? systemClock
    this.#onFailure = options.onFailure
    this.#close = options.ownsClient === true ? options.quit : undefined
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.#run(() => this.#client.get(this.#key(key)))
    return value === null || value === undefined ? undefined : String(value)
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    const options =
      ttlMs === undefined ? undefined : { expiration: { type: 'PX', value: milliseconds(ttlMs) } }
    await this.#run(() => this.#client.set(this.#key(key), value, options))
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#run(() =>
      this.#client.set(this.#key(key), value, {
        condition: 'NX',
        expiration: { type: 'PX', value: milliseconds(ttlMs) },
      }),
    )
    return reply !== null && reply !== undefined
  }

  async increment(key: string, amount: number, ttlMs: number): Promise<number> {
    const reply = await this.#script(SCRIPTS.increment, [key], [String(amount), String(milliseconds(ttlMs))])
    return Number(reply)
  }

  async chargeWithin(charges: readonly StoreCharge[], ttlMs: number): Promise<StoreChargeResult> {
    if (charges.length === 0) return { accepted: true, values: [] }
    const parameters = [String(milliseconds(ttlMs))]
    for (const charge of charges) parameters.push(String(charge.amount), String(charge.limit))
    const reply = (await this.#script(
      SCRIPTS.charge,
      charges.map((charge) => charge.key),
      parameters,
    )) as [unknown, unknown[]]
    return { accepted: Number(reply[0]) === 1, values: reply[1].map(Number) }
  }

  async acquireLease(
    key: string,
    holder: string,
    limit: number,
    ttlMs: number,
    weight = 1,
  ): Promise<boolean> {
    assertWeight(weight)
    const call = this.#evaluate(
      SCRIPTS.lease,
      [key],
      [holder, String(limit), String(milliseconds(ttlMs)), String(weight)],
    )
    let reply: unknown
    try {
      reply = await this.#within(call)
    } catch (error) {
      this.#returnIfTaken(call, key, holder)
      throw error
    }
    return Number((reply as unknown[])[0]) >= TAKEN
  }

  /**
   * The caller was told the lease call failed (it timed out), so it does not hold the lease; if
   * the script still runs and takes the units anew, they go back at once, compared with the entry
   * it wrote so a renewal the holder made since is left alone. A renewal that lands late keeps
   * the holder's own lease, as it would have.
   */
  #returnIfTaken(call: Promise<unknown>, key: string, holder: string): void {
    const returning: Promise<void> = call
      .then(async (reply) => {
        const [status, entry] = reply as [unknown, unknown]
        if (Number(status) !== TAKEN) return
        await this.#within(this.#evaluate(SCRIPTS.returnLease, [key], [holder, String(entry)]))
      })
      .catch(() => {
        // Reported by #within; the lease then ends with its expiry.
      })
      .finally(() => this.#lateLeases.delete(returning))
    this.#lateLeases.add(returning)
  }

  async releaseLease(key: string, holder: string): Promise<void> {
    await this.#run(() => this.#client.hDel(this.#key(key), holder))
  }

  async touch(key: string, ttlMs: number): Promise<boolean> {
    const reply = await this.#run(() => this.#client.pExpire(this.#key(key), milliseconds(ttlMs)))
    return Number(reply) === 1
  }

  async getBytes(key: string): Promise<Uint8Array | undefined> {
    const value = await this.#run(() => this.#bytes.get(this.#key(key)))
    return value === null || value === undefined ? undefined : new Uint8Array(value as Buffer)
  }

  async setBytes(key: string, value: Uint8Array, ttlMs: number): Promise<void> {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    await this.#run(() =>
      this.#client.set(this.#key(key), bytes, {
        expiration: { type: 'PX', value: milliseconds(ttlMs) },
      }),
    )
  }

  async delete(key: string): Promise<void> {
    await this.#run(() => this.#client.del(this.#key(key)))
  }

  async close(): Promise<void> {
    // Late leases go back before the connection closes, if Redis answers within one timeout;
    // those it does not answer end with their expiry.
    if (this.#lateLeases.size > 0) {
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.allSettled([...this.#lateLeases]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, this.#timeoutMs * 2)
        }),
      ])
      clearTimeout(timer)
    }
    await this.#close?.()
  }

  #key(key: string): string {
    return this.#prefix + key
  }

  /** Runs a script by its digest under the timeout. */
  #script(definition: Script, keys: readonly string[], parameters: string[]): Promise<unknown> {
    return this.#within(this.#evaluate(definition, keys, parameters))
  }

  /** Sends a script by its digest, loading it (EVAL) on the node that does not know it yet. */
  async #evaluate(definition: Script, keys: readonly string[], parameters: string[]): Promise<unknown> {
    const options = { keys: keys.map((key) => this.#key(key)), arguments: parameters }
    try {
      return await this.#client.evalSha(definition.sha, options)
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error
      return this.#client.eval(definition.source, options)
    }
  }

  /** Runs one operation under the timeout; every failure becomes CONTINUUM_STORE_UNAVAILABLE. */
  #run<T>(operation: () => Promise<T>): Promise<T> {
    return this.#within(new Promise<T>((resolve) => resolve(operation())))
  }

  /** Waits for a call under the timeout; every failure becomes CONTINUUM_STORE_UNAVAILABLE. */
  async #within<T>(pending: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    let deferred: NodeJS.Immediate | undefined
    try {
      return await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          // Timers run before the loop reads its sockets: on a busy process the answer may have
          // arrived already. Waiting one turn of the loop lets it be read before giving up on it.
          timer = setTimeout(() => {
            deferred = setImmediate(() => reject(new Timeout()))
          }, this.#timeoutMs)
        }),
      ])
    } catch (error) {
      throw this.#failure(error)
    } finally {
      clearTimeout(timer)
      clearImmediate(deferred)
    }
  }

  #failure(error: unknown): ContinuumError {
    // Replies that name a caller bug (keys of one operation on several cluster slots, a key of
    // the wrong type) are not outages: retrying cannot help and nothing should fail open on them.
    if (/^(CROSSSLOT|WRONGTYPE)\b/.test(String((error as Error)?.message))) {
      return new ContinuumError('CONTINUUM_INTERNAL', 'The shared state store refused a command', {
        cause: error,
      })
    }
    const kind = error instanceof Timeout ? 'timeout' : 'unavailable'
    try {
      this.#onFailure?.(kind)
    } catch {
      // A throwing metric hook must not hide the store's own error.
    }
    const now = this.#clock.now()
    // One line every few seconds at most: an outage must not flood the log.
    if (now - this.#lastWarning > 5_000) {
      this.#lastWarning = now
      this.#logger.warn({ kind }, 'shared state store failed')
    }
    return new ContinuumError(
      'CONTINUUM_STORE_UNAVAILABLE',
      kind === 'timeout'
        ? `The shared state store did not answer within ${this.#timeoutMs} ms`
        : 'The shared state store is unreachable',
      { cause: error },
    )
  }
}

brand(RedisStateStore.prototype, 'RedisStateStore')
