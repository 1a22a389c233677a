/**
 * Key rotation for a fleet: a key source that reloads. Each source yields a schedule (key ids,
 * the moment each becomes primary, and the grace period) and the keys' material, and a
 * KeyringReloader applies it to a Keyring now and every `intervalMs`. Because the switch times
 * are absolute and shared, every instance makes a new key primary, and stops accepting the old
 * one `graceMs` later, at the same instants by its own clock; a reload only has to happen before
 * the moment arrives, not at it.
 *
 * Two sources: a JSON file holding the whole schedule with its material (a mounted secret, say),
 * or a StateStore (Redis) holding only ids and times, with the material given locally to every
 * instance: key material never goes to the store. A failed reload keeps the last schedule and
 * reports it (a metric and a content-free log line); a malformed source is refused whole,
 * naming the entry, never echoing a value. Reloads never overlap (the timer, SIGHUP and callers
 * all trigger them): a slow read applied after a newer one would bring back the older schedule
 * and retire the keys added since, so each read waits for the last, and triggers that arrive
 * meanwhile share one read after it.
 */
import { readFile } from 'node:fs/promises'
import { type Clock, systemClock } from '../core/clock'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import type { StateStore } from '../stores'
import { isStoreUnavailable, StoreFailureReporter } from '../stores/store-failure'
import { loadHybridSupport } from './hybrid-support'
import { CLASSICAL_AGREEMENT, HYBRID_AGREEMENT } from './key-agreement'
import {
  type AgreementKeyInput,
  isHybridInput,
  Keyring,
  type ScheduleChange,
  type ScheduledKeyInput,
  type SharedKeyInput,
} from './keyring'

/** A rotation schedule with the material of its keys. */
export interface KeySchedule {
  readonly keys: readonly ScheduledKeyInput[]
  /** How long a key keeps decrypting after its successor activates; the reloader's `graceMs` when absent. */
  readonly graceMs?: number
}

/** Where a KeyringReloader reads the schedule from. */
export interface KeySource {
  /** Reads the schedule now; rejects when it cannot (the reloader then keeps the last one). */
  load(): Promise<KeySchedule>
}

/** A schedule entry as stored: no material. */
export interface ScheduleEntry {
  readonly id: string
  /** @default 'shared' */
  readonly kind?: 'shared' | 'agreement'
  /** When the key becomes primary: epoch milliseconds, or an ISO 8601 time. */
  readonly activatesAt: number | string
}

/** A schedule as the store holds it: ids and times only. */
export interface StoredKeySchedule {
  readonly graceMs?: number
  readonly keys: readonly ScheduleEntry[]
}

/** The store key of the schedule. */
export const KEY_SCHEDULE_KEY = 'keyring:schedule'

function malformed(message: string): ContinuumError {
  return new ContinuumError('CONTINUUM_KEY_SOURCE_INVALID', message)
}

function moment(value: unknown, where: string): number {
  const at = typeof value === 'string' ? Date.parse(value) : value
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0) {
    throw malformed(`${where}: activatesAt must be epoch milliseconds or an ISO 8601 time`)
  }
  return at
}

function graceOf(value: unknown, where: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(`${where}: graceMs must be a non-negative integer`)
  }
  return value
}

function entriesOf(value: unknown, where: string): Record<string, unknown>[] {
  const keys = (value as { keys?: unknown } | null)?.keys
  if (typeof value !== 'object' || value === null || !Array.isArray(keys)) {
    throw malformed(`${where}: expected an object with a "keys" list`)
  }
  return keys.map((entry, index) => {
    if (typeof entry !== 'object' || entry === null)
      throw malformed(`${where}: keys[${index}] is not an object`)
    const record = entry as Record<string, unknown>
    if (typeof record.id !== 'string') throw malformed(`${where}: keys[${index}].id must be a string`)
    if (record.kind !== undefined && record.kind !== 'shared' && record.kind !== 'agreement') {
      throw malformed(`${where}: keys[${index}].kind must be "shared" or "agreement"`)
    }
    return record
  })
}

/** The optional hybrid fields of an agreement entry, checked. */
function agreementAlgorithm(
  entry: Record<string, unknown>,
  where: string,
): Pick<AgreementKeyInput, 'algorithm' | 'classical'> {
  const { algorithm, classical } = entry
  if (algorithm !== undefined && algorithm !== CLASSICAL_AGREEMENT && algorithm !== HYBRID_AGREEMENT) {
    throw malformed(`${where}.algorithm must be ${CLASSICAL_AGREEMENT} or ${HYBRID_AGREEMENT}`)
  }
  if (classical !== undefined && typeof classical !== 'boolean')
    throw malformed(`${where}.classical must be a boolean`)
  return {
    ...(algorithm === undefined ? {} : { algorithm }),
    ...(classical === undefined ? {} : { classical }),
  }
}

/** Reads a schedule with its material from a JSON file (see docs/deployment.md for the format). */
export function fileKeySource(path: string): KeySource {
  if (typeof path !== 'string' || path === '') {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'fileKeySource: path is required')
  }
  return {
    async load() {
      let text: string
      try {
        text = await readFile(path, 'utf8')
      } catch (error) {
        throw malformed(`The key file cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
      }
      let parsed: unknown
      try {
        parsed = JSON.parse(text)
      } catch {
        // No cause: the parser's message quotes the file, and the file holds keys.
        throw malformed('The key file is not valid JSON')
      }
      const keys = entriesOf(parsed, 'key file').map((entry, index): ScheduledKeyInput => {
        const activatesAt = moment(entry.activatesAt, `key file keys[${index}]`)
        if (entry.kind === 'agreement') {
          if (typeof entry.privateKey !== 'string')
            throw malformed(`key file keys[${index}].privateKey is required`)
          return {
            kind: 'agreement',
            id: entry.id as string,
            privateKey: entry.privateKey,
            activatesAt,
            ...agreementAlgorithm(entry, `key file keys[${index}]`),
          }
        }
        if (typeof entry.key !== 'string') throw malformed(`key file keys[${index}].key is required`)
        return { kind: 'shared', id: entry.id as string, key: entry.key, activatesAt }
      })
      return { keys, graceMs: graceOf((parsed as { graceMs?: unknown }).graceMs, 'key file') }
    },
  }
}

/** Options of {@link storeKeySource}. */
export interface StoreKeySourceOptions {
  /** The store holding the schedule (written with {@link publishKeySchedule}). */
  readonly store: StateStore
  /** The material of every key the schedule may name, held locally by each instance. */
  readonly keys?: readonly SharedKeyInput[]
  readonly agreementKeys?: readonly AgreementKeyInput[]
}

function parseStored(text: string): { graceMs: number | undefined; entries: Record<string, unknown>[] } {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw malformed('The stored key schedule is not valid JSON')
  }
  const entries = entriesOf(parsed, 'stored key schedule')
  entries.forEach((entry, index) => {
    if ('key' in entry || 'privateKey' in entry) {
      throw malformed(
        `stored key schedule keys[${index}] carries key material, which never belongs in the store`,
      )
    }
  })
  return { graceMs: graceOf((parsed as { graceMs?: unknown }).graceMs, 'stored key schedule'), entries }
}

/**
 * Reads the schedule (ids and times) from a StateStore and joins it with the material given
 * here. A scheduled id without local material is left out (the reloader logs it), so an
 * instance missing a key keeps serving with the keys it has.
 */
export function storeKeySource(options: StoreKeySourceOptions): KeySource {
  if (typeof options?.store?.get !== 'function') {
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'storeKeySource: store is required')
  }
  const shared = new Map((options.keys ?? []).map((input) => [input.id, input]))
  const agreement = new Map((options.agreementKeys ?? []).map((input) => [input.id, input]))
  return {
    async load() {
      const text = await options.store.get(KEY_SCHEDULE_KEY)
      if (text === undefined) throw malformed('The store holds no key schedule; publish one first')
      const { graceMs, entries } = parseStored(text)
      const keys: ScheduledKeyInput[] = []
      entries.forEach((entry, index) => {
        const activatesAt = moment(entry.activatesAt, `stored key schedule keys[${index}]`)
        const id = entry.id as string
        if (entry.kind === 'agreement') {
          const input = agreement.get(id)
          if (input !== undefined) keys.push({ ...input, kind: 'agreement', activatesAt })
        } else {
          const input = shared.get(id)
          if (input !== undefined) keys.push({ ...input, kind: 'shared', activatesAt })
        }
      })
      return { keys, graceMs }
    },
  }
}

/** Writes a schedule (ids and times, never material) for {@link storeKeySource} readers. */
export async function publishKeySchedule(store: StateStore, schedule: StoredKeySchedule): Promise<void> {
  const text = JSON.stringify({
    ...(schedule.graceMs === undefined ? {} : { graceMs: schedule.graceMs }),
    keys: schedule.keys.map((entry) => ({
      id: entry.id,
      ...(entry.kind === undefined ? {} : { kind: entry.kind }),
      activatesAt: entry.activatesAt,
    })),
  })
  const checked = parseStored(text)
  checked.entries.forEach((entry, index) => {
    moment(entry.activatesAt, `schedule keys[${index}]`)
  })
  await store.set(KEY_SCHEDULE_KEY, text)
}

/** Reads a schedule, loading ML-KEM and the hybrid code first when it names a hybrid key (the keyring builds synchronously). */
async function loadSchedule(source: KeySource): Promise<KeySchedule> {
  const schedule = await source.load()
  if (schedule.keys.some((input) => input.kind === 'agreement' && isHybridInput(input)))
    await loadHybridSupport()
  return schedule
}

/** Options of {@link KeyringReloader.start}. */
export interface KeyringReloaderOptions {
  readonly source: KeySource
  /**
   * How often the source is read again, in milliseconds.
   * @default 5000
   */
  readonly intervalMs?: number
  /**
   * Grace period when the schedule names none, in milliseconds.
   * @default 86400000 (24 hours)
   */
  readonly graceMs?: number
  /** @default systemClock */
  readonly clock?: Clock
  /**
   * Content-free lines when a reload fails or changes the keys (ids only).
   * @default silentLogger
   */
  readonly logger?: Logger
}

/** A Keyring that follows a key source; pass `keyring` as the proxy's `keys`. */
export class KeyringReloader {
  readonly keyring: Keyring
  readonly #source: KeySource
  readonly #graceMs: number
  readonly #logger: Logger
  readonly #failures: StoreFailureReporter
  readonly #timer: NodeJS.Timeout
  /** The last reload started: the next one reads only once it has settled. */
  #latest: Promise<unknown> = Promise.resolve()
  /** The reload waiting for its turn, not reading yet; every trigger until it starts joins it. */
  #waiting: Promise<ScheduleChange> | undefined

  private constructor(
    keyring: Keyring,
    options: KeyringReloaderOptions,
    graceMs: number,
    intervalMs: number,
  ) {
    this.keyring = keyring
    this.#source = options.source
    this.#graceMs = graceMs
    this.#logger = options.logger ?? silentLogger
    this.#failures = new StoreFailureReporter('key-schedule', this.#logger, options.clock ?? systemClock)
    this.#timer = setInterval(() => void this.#tick(), intervalMs)
    this.#timer.unref()
  }

  /** Reads the source once (rejecting when it cannot) and keeps reading it in the background. */
  static async start(options: KeyringReloaderOptions): Promise<KeyringReloader> {
    if (typeof options?.source?.load !== 'function') {
      throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'KeyringReloader: source is required')
    }
    const intervalMs = options.intervalMs ?? 5_000
    const graceMs = options.graceMs ?? 86_400_000
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'KeyringReloader: intervalMs must be a positive integer',
      )
    }
    const schedule = await loadSchedule(options.source)
    const shared = schedule.keys.filter((input) => input.kind !== 'agreement') as SharedKeyInput[]
    const agreement = schedule.keys.filter((input) => input.kind === 'agreement') as AgreementKeyInput[]
    const keyring = new Keyring({
      keys: shared.map(({ id, key }) => ({ id, key })),
      agreementKeys: agreement.map(({ id, privateKey, algorithm, classical }) => ({
        id,
        privateKey,
        ...(algorithm === undefined ? {} : { algorithm }),
        ...(classical === undefined ? {} : { classical }),
      })),
      graceMs: schedule.graceMs ?? graceMs,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
    })
    keyring.applySchedule(schedule.keys, schedule.graceMs ?? graceMs)
    return new KeyringReloader(keyring, options, graceMs, intervalMs)
  }

  /**
   * Reads the source and applies it; rejects (keeping the last schedule) when it cannot. While a
   * reload reads, a call waits for it and then reads again, so the source as it is after the call
   * is what gets applied; calls made during that wait share its one read.
   */
  reload(): Promise<ScheduleChange> {
    if (this.#waiting !== undefined) return this.#waiting
    const next = this.#latest.then(() => {
      // Reading starts now: a later call must read after this one, not share it.
      this.#waiting = undefined
      return this.#readAndApply()
    })
    this.#waiting = next
    this.#latest = next.catch(() => undefined)
    return next
  }

  async #readAndApply(): Promise<ScheduleChange> {
    const schedule = await loadSchedule(this.#source)
    const change = this.keyring.applySchedule(schedule.keys, schedule.graceMs ?? this.#graceMs)
    if (change.added.length > 0 || change.removed.length > 0) {
      this.#logger.info(
        {
          added: change.added.join(','),
          removed: change.removed.join(','),
        },
        'key schedule changed',
      )
    }
    return change
  }

  async #tick(): Promise<void> {
    try {
      await this.reload()
    } catch (error) {
      if (isStoreUnavailable(error)) {
        this.#failures.report(error, 'open')
        return
      }
      const code = ContinuumError.isInstance(error) ? error.code : 'CONTINUUM_INTERNAL'
      this.#logger.warn({ code }, 'key schedule reload failed; the last one stays in force')
    }
  }

  /** Stops reloading. */
  close(): void {
    clearInterval(this.#timer)
  }
}
