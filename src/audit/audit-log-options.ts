/**
 * Options of the AuditLog, and their resolution: validated and given their defaults once at
 * construction, with the signing key parsed and its key id computed, so `record()` and the
 * background writer only read precomputed values.
 */
import type { KeyObject } from 'node:crypto'
import { type Clock, systemClock } from '../core/clock'
import { type Logger, silentLogger } from '../core/logger'
import { ContinuumError } from '../errors'
import { type AuditSigningKeyInput, parseSigningKey } from './audit-hybrid-keys'
import type { AuditSink } from './audit-sink'
import { GENESIS_HASH } from './record-chain'

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
  /**
   * Ed25519 signing key: PKCS#8 PEM, base64 32-byte seed, or a KeyObject. Or a hybrid key document
   * (`continuum-proxy model keygen`): records are then signed with Ed25519 and ML-DSA-65, both
   * checked by the verifier (needs `@noble/post-quantum`).
   */
  privateKey: AuditSigningKeyInput
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

/** Options after validation, with every default applied. */
export interface ResolvedAuditLogOptions {
  readonly sink: AuditSink
  readonly privateKey: KeyObject
  readonly keyId: string
  /** The ML-DSA-65 seed of a hybrid key. */
  readonly mlDsaSeed: Buffer | undefined
  readonly maxQueue: number
  readonly overflow: AuditOverflowPolicy
  readonly maxBatch: number
  readonly anchor: string
  readonly maxFieldLength: number
  readonly retryDelayMs: number
  readonly onDrop: ((event: AuditDropEvent) => void) | undefined
  readonly onError: ((error: ContinuumError) => void) | undefined
  readonly clock: Clock
  readonly logger: Logger
}

/** Validates options; throws CONTINUUM_INVALID_OPTIONS naming the option, or CONTINUUM_AUDIT_KEY_INVALID. */
export function resolveAuditLogOptions(options: AuditLogOptions): ResolvedAuditLogOptions {
  if (typeof options?.sink?.write !== 'function') throw invalid('options.sink must implement write(lines)')
  const overflow = options.overflow ?? 'drop_newest'
  if (overflow !== 'drop_newest' && overflow !== 'drop_oldest') {
    throw invalid("options.overflow must be 'drop_newest' or 'drop_oldest'")
  }
  const anchor = options.anchor ?? GENESIS_HASH
  if (!/^[0-9a-f]{64}$/.test(anchor)) throw invalid('options.anchor must be 64 lower-case hex digits')
  const { privateKey, keyId, mlDsaSeed } = parseSigningKey(options.privateKey)
  return {
    sink: options.sink,
    privateKey,
    keyId,
    mlDsaSeed,
    maxQueue: integer(options.maxQueue, 10_000, 'maxQueue'),
    overflow,
    maxBatch: integer(options.maxBatch, 256, 'maxBatch'),
    anchor,
    maxFieldLength: integer(options.maxFieldLength, 512, 'maxFieldLength'),
    retryDelayMs: integer(options.retryDelayMs, 1000, 'retryDelayMs'),
    onDrop: options.onDrop,
    onError: options.onError,
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
  }
}

function integer(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw invalid(`options.${name} must be a positive integer`)
  return value
}

function invalid(problem: string): ContinuumError {
  return new ContinuumError('CONTINUUM_INVALID_OPTIONS', `AuditLog: ${problem}`)
}
