/**
 * The AuditLog: `record()` on the request path only validates and copies the input into a bounded
 * queue and returns; a background writer signs queued records into the hash chain and hands them
 * to the sink in batches. When the queue is full the overflow policy decides which record is
 * dropped; drops are counted, reported through `onDrop` and the logger, and the writer then puts a
 * signed `audit.dropped` record into the chain, so a gap is visible to anyone verifying the log.
 * `flush()` waits until everything queued so far is written and durable; `close()` does the same
 * and releases the sink, so nothing is lost on a clean shutdown.
 */
import { randomUUID } from 'node:crypto'
import { type Clock, systemClock } from '../core/clock'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError, toContinuumError } from '../errors'
import { type AuditKeyInput, auditKeyId, parseAuditPrivateKey } from './audit-keys'
import type { AuditRecord, AuditRecordBody, AuditRecordInput } from './audit-record'
import type { AuditSink } from './audit-sink'
import { normalizeRecord } from './normalize-record'
import {
  type AuditChainHead,
  GENESIS_HASH,
  hashMatches,
  recordShapeProblem,
  sealRecord,
} from './record-chain'

/** What happens to a new record when the queue is full. Neither blocks the caller. */
export type AuditOverflowPolicy = 'drop_newest' | 'drop_oldest'

/** Reported to `onDrop` for every record that will never be written. */
export interface AuditDropEvent {
  /** `queue_full` under the overflow policy, `closed` when recorded after `close()`. */
  readonly reason: 'queue_full' | 'closed'
  /** Request id of the dropped record. */
  readonly requestId: string | undefined
  /** Records dropped since the log was created. */
  readonly totalDropped: number
}

/** Counters of an AuditLog. */
export interface AuditLogStats {
  /** Records waiting in the queue (not yet signed). */
  readonly queued: number
  /** Records the sink accepted. */
  readonly written: number
  /** Records dropped (queue full or closed). */
  readonly dropped: number
  /** Failed sink writes (each retried). */
  readonly writeFailures: number
}

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /** Where signed lines go: `FileAuditSink`, `StreamAuditSink`, `MemoryAuditSink` or your own. */
  sink: AuditSink
  /** Ed25519 signing key: PKCS#8 PEM, base64 32-byte seed, or a KeyObject. */
  privateKey: AuditKeyInput
  /**
   * Records the queue holds before the overflow policy applies.
   * @default 10000
   */
  maxQueue?: number
  /**
   * Which record to drop when the queue is full: the new one (`drop_newest`, keeps the oldest
   * context) or the oldest queued one (`drop_oldest`, keeps the most recent activity).
   * @default 'drop_newest'
   */
  overflow?: AuditOverflowPolicy
  /**
   * Records per sink write.
   * @default 256
   */
  maxBatch?: number
  /**
   * `prevHash` of the first record of a fresh log: 64 hex digits, e.g. the last hash of a rotated log.
   * @default 64 zeros
   */
  anchor?: string
  /**
   * Strings longer than this (model names, ids from clients) are cut, with a trailing `…`.
   * @default 512
   */
  maxFieldLength?: number
  /**
   * Delay before retrying a failed sink write.
   * @default 1000
   */
  retryDelayMs?: number
  /**
   * Called for each dropped record. Runs guarded: a throwing callback is logged and ignored.
   * @default undefined
   */
  onDrop?: (event: AuditDropEvent) => void
  /**
   * Called when the sink fails to open or to write. Runs guarded.
   * @default undefined
   */
  onError?: (error: ContinuumError) => void
  /** @default systemClock */
  clock?: Clock
  /** @default silentLogger */
  logger?: Logger
}

/** A tamper-evident, non-blocking audit log. */
export class AuditLog {
  readonly #sink: AuditSink
  readonly #privateKey: ReturnType<typeof parseAuditPrivateKey>
  readonly #keyId: string
  readonly #maxQueue: number
  readonly #overflow: AuditOverflowPolicy
  readonly #maxBatch: number
  readonly #maxFieldLength: number
  readonly #retryDelayMs: number
  readonly #onDrop: ((event: AuditDropEvent) => void) | undefined
  readonly #onError: ((error: ContinuumError) => void) | undefined
  readonly #clock: Clock
  readonly #logger: Logger
  readonly #opened: Promise<void>
  #head: AuditChainHead
  #queue: AuditRecordBody[] = []
  // Signed lines the sink has not accepted yet; retried as they are, so the chain never forks.
  #pending: { lines: string[]; records: number } | undefined
  #droppedUnreported = 0
  #written = 0
  #dropped = 0
  #writeFailures = 0
  #active: Promise<void> | undefined
  #scheduled = false
  #retryTimer: NodeJS.Timeout | undefined
  #closed = false
  #closing: Promise<void> | undefined

  constructor(options: AuditLogOptions) {
    if (typeof options?.sink?.write !== 'function') {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'AuditLog: options.sink must implement write(lines)',
      )
    }
    this.#sink = options.sink
    this.#privateKey = parseAuditPrivateKey(options.privateKey)
    this.#keyId = auditKeyId(this.#privateKey)
    this.#maxQueue = integer(options.maxQueue, 10_000, 'maxQueue')
    this.#maxBatch = integer(options.maxBatch, 256, 'maxBatch')
    this.#maxFieldLength = integer(options.maxFieldLength, 512, 'maxFieldLength')
    this.#retryDelayMs = integer(options.retryDelayMs, 1000, 'retryDelayMs')
    this.#overflow = options.overflow ?? 'drop_newest'
    if (this.#overflow !== 'drop_newest' && this.#overflow !== 'drop_oldest') {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        "AuditLog: options.overflow must be 'drop_newest' or 'drop_oldest'",
      )
    }
    const anchor = options.anchor ?? GENESIS_HASH
    if (!/^[0-9a-f]{64}$/.test(anchor)) {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'AuditLog: options.anchor must be 64 lower-case hex digits',
      )
    }
    this.#head = { seq: -1, hash: anchor }
    this.#onDrop = options.onDrop
    this.#onError = options.onError
    this.#clock = options.clock ?? systemClock
    this.#logger = options.logger ?? silentLogger
    this.#opened = this.#open()
    // A failed open is reported through onError and rethrown by ready(), flush() and close().
    this.#opened.catch((error) => this.#report(toContinuumError(error)))
  }

  /** Creates a log and waits until its sink is open and the chain head is known. */
  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const log = new AuditLog(options)
    await log.ready()
    return log
  }

  /** Resolves when the sink is open; rejects with CONTINUUM_AUDIT_LOG_CORRUPT or CONTINUUM_AUDIT_WRITE_FAILED. */
  ready(): Promise<void> {
    return this.#opened
  }

  /** The id of the signing key, written into every record. */
  get keyId(): string {
    return this.#keyId
  }

  /** The last record signed: keep it elsewhere to detect a log cut at its end (see docs/audit.md). */
  get head(): AuditChainHead {
    return this.#head
  }

  /**
   * Queues a record and returns at once; signing and writing happen in the background. Throws
   * CONTINUUM_AUDIT_INVALID_RECORD only for inputs of the wrong shape (a programming error).
   */
  record(input: AuditRecordInput): void {
    const body = normalizeRecord(input, randomUUID(), this.#clock.now(), this.#maxFieldLength)
    if (this.#closed) {
      this.#drop('closed', body)
      return
    }
    if (this.#queue.length >= this.#maxQueue) {
      if (this.#overflow === 'drop_newest') {
        this.#drop('queue_full', body)
        return
      }
      const oldest = this.#queue.shift()
      if (oldest !== undefined) this.#drop('queue_full', oldest)
    }
    this.#queue.push(body)
    this.#schedule()
  }

  /** Resolves when every record queued before the call is written and the sink has flushed. */
  async flush(): Promise<void> {
    await this.#opened
    while (this.#queue.length > 0 || this.#pending !== undefined || this.#droppedUnreported > 0) {
      await this.#pump()
    }
    await wrapSink(() => this.#sink.flush?.())
  }

  /** Stops accepting records, writes everything queued, flushes and closes the sink. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true
      clearTimeout(this.#retryTimer)
      this.#retryTimer = undefined
      await this.flush()
      await wrapSink(() => this.#sink.close?.())
    })().catch((error) => {
      // Let a later close() try again, e.g. once the disk has room.
      this.#closing = undefined
      throw error
    })
    return this.#closing
  }

  /** Current counters. */
  stats(): AuditLogStats {
    return {
      queued: this.#queue.length,
      written: this.#written,
      dropped: this.#dropped,
      writeFailures: this.#writeFailures,
    }
  }

  async #open(): Promise<void> {
    const last = await wrapSink(() => this.#sink.open?.())
    if (last === undefined) return
    let record: unknown
    try {
      record = JSON.parse(last)
    } catch {
      throw corrupt('is not JSON')
    }
    const problem = recordShapeProblem(record)
    if (problem !== undefined) throw corrupt(problem)
    if (!hashMatches(record as AuditRecord)) throw corrupt('does not match its hash (edited?)')
    this.#head = { seq: (record as AuditRecord).seq, hash: (record as AuditRecord).hash }
  }

  #schedule(): void {
    if (this.#scheduled || this.#retryTimer !== undefined) return
    this.#scheduled = true
    // setImmediate lets the request that recorded finish before any signing happens.
    setImmediate(() => {
      this.#scheduled = false
      this.#pump().catch(() => {})
    })
  }

  #pump(): Promise<void> {
    this.#active ??= this.#drain().finally(() => {
      this.#active = undefined
    })
    return this.#active
  }

  async #drain(): Promise<void> {
    await this.#opened
    while (this.#pending !== undefined || this.#queue.length > 0 || this.#droppedUnreported > 0) {
      this.#pending ??= this.#signBatch()
      try {
        await this.#sink.write(this.#pending.lines)
      } catch (error) {
        this.#writeFailures += 1
        const failure = new ContinuumError(
          'CONTINUUM_AUDIT_WRITE_FAILED',
          `The audit sink failed to write ${this.#pending.records} records; they stay queued and are retried`,
          { cause: error },
        )
        this.#report(failure)
        this.#retryLater()
        throw failure
      }
      this.#written += this.#pending.records
      this.#pending = undefined
    }
  }

  #signBatch(): { lines: string[]; records: number } {
    const bodies = this.#queue.splice(0, this.#maxBatch)
    if (this.#droppedUnreported > 0) {
      bodies.unshift(this.#droppedMarker(this.#droppedUnreported))
      this.#droppedUnreported = 0
    }
    const lines: string[] = []
    for (const body of bodies) {
      const { record, line } = sealRecord(body, this.#head, this.#keyId, this.#privateKey)
      this.#head = { seq: record.seq, hash: record.hash }
      lines.push(line)
    }
    return { lines, records: lines.length }
  }

  #droppedMarker(count: number): AuditRecordBody {
    return {
      event: 'audit.dropped',
      id: randomUUID(),
      time: new Date(this.#clock.now()).toISOString(),
      who: { subject: 'continuum-proxy', type: 'system' },
      what: { action: 'audit.dropped' },
      attributes: { dropped: count, overflow: this.#overflow },
    }
  }

  #retryLater(): void {
    if (this.#closed || this.#retryTimer !== undefined) return
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      this.#pump().catch(() => {})
    }, this.#retryDelayMs)
    this.#retryTimer.unref()
  }

  #drop(reason: AuditDropEvent['reason'], body: AuditRecordBody): void {
    this.#dropped += 1
    // A record refused after close() cannot be written anyway; only queue overflow leaves a marker.
    if (reason === 'queue_full') this.#droppedUnreported += 1
    this.#logger.warn('audit record dropped', { reason, totalDropped: this.#dropped })
    if (this.#onDrop === undefined) return
    try {
      this.#onDrop({ reason, requestId: body.requestId, totalDropped: this.#dropped })
    } catch {
      this.#logger.error('audit onDrop callback threw', { reason })
    }
  }

  #report(error: ContinuumError): void {
    this.#logger.error('audit sink failure', { code: error.code })
    if (this.#onError === undefined) return
    try {
      this.#onError(error)
    } catch {
      this.#logger.error('audit onError callback threw', { code: error.code })
    }
  }
}

async function wrapSink<T>(operation: () => Promise<T> | undefined): Promise<T | undefined> {
  try {
    return await operation()
  } catch (error) {
    if (ContinuumError.isInstance(error)) throw error
    throw new ContinuumError(
      'CONTINUUM_AUDIT_WRITE_FAILED',
      'The audit sink failed to open, flush or close',
      {
        cause: error,
      },
    )
  }
}

function corrupt(problem: string): ContinuumError {
  return new ContinuumError(
    'CONTINUUM_AUDIT_LOG_CORRUPT',
    `The last record of the existing audit log ${problem}`,
  )
}

function integer(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `AuditLog: options.${name} must be a positive integer`,
    )
  }
  return value
}
