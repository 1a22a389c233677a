/**
 * The AuditLog: `record()` on the request path only validates and copies the input into a bounded
 * queue and returns; a background writer signs queued records into the hash chain and hands them
 * to the sink in batches. When the queue is full the overflow policy decides which record is
 * dropped; drops are counted, reported through `onDrop` and the logger, and the writer then puts a
 * signed `audit.dropped` record into the chain, so a gap is visible to anyone verifying the log.
 * `flush()` waits until everything queued so far is written and durable; `close()` does the same
 * and releases the sink, so nothing is lost on a clean shutdown.
 */

import { createPublicKey, randomUUID } from 'node:crypto'
import { ContinuumError, toContinuumError } from '../errors'
import { brand } from '../internal/brand'
import { type PostQuantumSigner, postQuantumSigner } from './audit-hybrid-keys'
import {
  type AuditDropEvent,
  type AuditLogOptions,
  type AuditLogStats,
  type ResolvedAuditLogOptions,
  resolveAuditLogOptions,
} from './audit-log-options'
import type { AuditRecord, AuditRecordBody, AuditRecordInput } from './audit-record'
import { normalizeRecord } from './normalize-record'
import {
  type AuditChainHead,
  hashMatches,
  recordShapeProblem,
  sealRecord,
  signatureValid,
} from './record-chain'

/** A tamper-evident, non-blocking audit log. */
export class AuditLog {
  readonly #options: ResolvedAuditLogOptions
  readonly #opened: Promise<void>
  // The chain position of the last record signed, and of the last record the sink accepted.
  #head: AuditChainHead
  #writtenHead: AuditChainHead
  #queue: AuditRecordBody[] = []
  // Signed lines the sink has not accepted yet; retried as they are, so the chain never forks.
  #pending: { lines: string[]; records: number; head: AuditChainHead } | undefined
  #droppedUnreported = 0
  #written = 0
  #dropped = 0
  #writeFailures = 0
  #active: Promise<void> | undefined
  #scheduled = false
  #retryTimer: NodeJS.Timeout | undefined
  #closed = false
  #closing: Promise<void> | undefined
  #postQuantum: PostQuantumSigner | undefined

  constructor(options: AuditLogOptions) {
    this.#options = resolveAuditLogOptions(options)
    this.#head = { seq: -1, hash: this.#options.anchor }
    this.#writtenHead = this.#head
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
    return this.#options.keyId
  }

  /**
   * Seq and hash of the last record the sink accepted (seq -1 before the first). Keep it elsewhere
   * from time to time to detect records cut off the end of the log (see docs/audit.md).
   */
  get head(): AuditChainHead {
    return this.#writtenHead
  }

  /**
   * Queues a record and returns at once; signing and writing happen in the background. Throws
   * CONTINUUM_AUDIT_INVALID_RECORD only for inputs of the wrong shape (a programming error).
   */
  record(input: AuditRecordInput): void {
    const body = normalizeRecord(input, randomUUID(), this.#options.clock.now(), this.#options.maxFieldLength)
    if (this.#closed) {
      this.#drop('closed', body)
      return
    }
    if (this.#queue.length >= this.#options.maxQueue) {
      if (this.#options.overflow === 'drop_newest') {
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
    await wrapSink(() => this.#options.sink.flush?.())
  }

  /** Stops accepting records, writes everything queued, flushes and closes the sink. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true
      clearTimeout(this.#retryTimer)
      this.#retryTimer = undefined
      await this.flush()
      await wrapSink(() => this.#options.sink.close?.())
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
    const seed = this.#options.mlDsaSeed
    if (seed !== undefined) this.#postQuantum = await postQuantumSigner(seed)
    const last = await wrapSink(() => this.#options.sink.open?.())
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
    // A record under this log's own key id that the key did not sign was put there by someone
    // else; chained onto, it would leave every genuine record after it unverifiable. A record of
    // another key (the one before a rotation) cannot be checked here and is continued.
    if (
      (record as AuditRecord).keyId === this.#options.keyId &&
      !signatureValid(record as AuditRecord, createPublicKey(this.#options.privateKey))
    ) {
      throw corrupt(`claims this log's key ${this.#options.keyId} but was not signed with it (forged?)`)
    }
    // A log continued by the Ed25519 half of the hybrid key that signed it would be a downgrade the
    // verifier refuses (retired_key) from the first record written: nothing written would verify.
    if ((record as AuditRecord).keyId === `hybrid-${this.#options.keyId}`) {
      throw corrupt(
        `is signed by the hybrid key whose Ed25519 half this log was given; records signed with the half alone after it would not verify (rotate to a new key instead)`,
      )
    }
    this.#head = { seq: (record as AuditRecord).seq, hash: (record as AuditRecord).hash }
    this.#writtenHead = this.#head
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
        await this.#options.sink.write(this.#pending.lines)
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
      this.#writtenHead = this.#pending.head
      this.#pending = undefined
    }
  }

  #signBatch(): { lines: string[]; records: number; head: AuditChainHead } {
    const bodies = this.#queue.splice(0, this.#options.maxBatch)
    if (this.#droppedUnreported > 0) {
      bodies.unshift(this.#droppedMarker(this.#droppedUnreported))
      this.#droppedUnreported = 0
    }
    const lines: string[] = []
    for (const [index, body] of bodies.entries()) {
      // ML-DSA signs the last record of each batch only: through the hash chain it commits to every
      // record before it, at one ML-DSA signature per batch instead of per record.
      const last = index === bodies.length - 1
      const { record, line } = sealRecord(
        body,
        this.#head,
        this.#options.keyId,
        this.#options.privateKey,
        last ? this.#postQuantum : undefined,
      )
      this.#head = { seq: record.seq, hash: record.hash }
      lines.push(line)
    }
    return { lines, records: lines.length, head: this.#head }
  }

  #droppedMarker(count: number): AuditRecordBody {
    return {
      event: 'audit.dropped',
      id: randomUUID(),
      time: new Date(this.#options.clock.now()).toISOString(),
      who: { subject: 'continuum-proxy', type: 'system' },
      what: { action: 'audit.dropped' },
      attributes: { dropped: count, overflow: this.#options.overflow },
    }
  }

  #retryLater(): void {
    if (this.#closed || this.#retryTimer !== undefined) return
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      this.#pump().catch(() => {})
    }, this.#options.retryDelayMs)
    this.#retryTimer.unref()
  }

  #drop(reason: AuditDropEvent['reason'], body: AuditRecordBody): void {
    this.#dropped += 1
    // A record refused after close() cannot be written anyway; only queue overflow leaves a marker.
    if (reason === 'queue_full') this.#droppedUnreported += 1
    // One warning per overflow burst (until the writer catches up), not one per record.
    if (reason === 'closed' || this.#droppedUnreported === 1) {
      this.#options.logger.warn({ reason, totalDropped: this.#dropped }, 'audit record dropped')
    }
    if (this.#options.onDrop === undefined) return
    try {
      this.#options.onDrop({ reason, requestId: body.requestId, totalDropped: this.#dropped })
    } catch {
      this.#options.logger.error({ reason }, 'audit onDrop callback threw')
    }
  }

  #report(error: ContinuumError): void {
    this.#options.logger.error({ code: error.code }, 'audit sink failure')
    if (this.#options.onError === undefined) return
    try {
      this.#options.onError(error)
    } catch {
      this.#options.logger.error({ code: error.code }, 'audit onError callback threw')
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

brand(AuditLog.prototype, 'AuditLog')
