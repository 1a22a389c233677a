/**
 * The JSON Lines file sink. It opens the file for appending, reads the last line so a restarted
 * log continues the chain, and fsyncs by policy: after every batch (`always`, a group commit: one
 * fsync covers every record of the batch), after N records or T milliseconds, or never (left to
 * the OS, with one fsync on close). A failed write (a torn append, or an append whose fsync failed)
 * is cut back off the file, before the next append at the latest, so the retry leaves neither a
 * torn line nor a second copy of the batch. The file system is a seam, so tests can count fsync
 * calls and inject faults.
 */
import { open } from 'node:fs/promises'
import { type Clock, systemClock } from '../core/clock'
import { ContinuumError } from '../errors'
import type { AuditSink } from './audit-sink'

/**
 * When the file is fsynced: `always` after every batch, `never` only on close, or after
 * `everyRecords` records or `everyMs` milliseconds since the last fsync, whichever comes first
 * (an idle timer makes sure `everyMs` holds when no more records arrive).
 */
export type AuditFsyncPolicy =
  | 'always'
  | 'never'
  | { readonly everyRecords?: number; readonly everyMs?: number }

/** The part of `fs/promises` FileHandle the sink uses. */
export interface AuditFileHandle {
  stat(): Promise<{ size: number }>
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>
  appendFile(data: string): Promise<void>
  sync(): Promise<void>
  truncate(length: number): Promise<void>
  close(): Promise<void>
}

/** Opens files; the default is node:fs/promises. */
export interface AuditFileSystem {
  open(path: string, flags: 'a+'): Promise<AuditFileHandle>
}

/** Options of {@link FileAuditSink}. */
export interface FileAuditSinkOptions {
  /** Path of the JSON Lines file; created when absent, appended to when present. */
  path: string
  /**
   * The fsync policy.
   * @default 'always'
   */
  fsync?: AuditFsyncPolicy
  /**
   * The file system seam.
   * @default node:fs/promises
   */
  fileSystem?: AuditFileSystem
  /**
   * Time source for `everyMs`.
   * @default systemClock
   */
  clock?: Clock
}

const nodeFileSystem: AuditFileSystem = { open: (path, flags) => open(path, flags) }
const TAIL_CHUNK = 64 * 1024
const MAX_LINE = 4 * 1024 * 1024

/** Appends signed audit lines to a JSON Lines file. */
export class FileAuditSink implements AuditSink {
  readonly #path: string
  readonly #fileSystem: AuditFileSystem
  readonly #clock: Clock
  readonly #everyRecords: number
  readonly #everyMs: number
  #handle: AuditFileHandle | undefined
  #size = 0
  #unsynced = 0
  /** The size to cut the file back to before the next append: a failed write's cut that failed too. */
  #cutTo: number | undefined
  #lastSync = 0
  #timer: NodeJS.Timeout | undefined
  // Serialises appends, timer fsyncs and close, so a timer never fsyncs in the middle of a close.
  #tail: Promise<unknown> = Promise.resolve()

  constructor(options: FileAuditSinkOptions) {
    if (typeof options?.path !== 'string' || options.path === '') {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        'FileAuditSink: options.path must be a non-empty string',
      )
    }
    this.#path = options.path
    this.#fileSystem = options.fileSystem ?? nodeFileSystem
    this.#clock = options.clock ?? systemClock
    const policy = options.fsync ?? 'always'
    if (policy === 'always') [this.#everyRecords, this.#everyMs] = [1, Number.POSITIVE_INFINITY]
    else if (policy === 'never')
      [this.#everyRecords, this.#everyMs] = [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]
    else if (
      typeof policy === 'object' &&
      policy !== null &&
      (policy.everyRecords ?? policy.everyMs) !== undefined
    ) {
      this.#everyRecords = positive(policy.everyRecords, 'everyRecords')
      this.#everyMs = positive(policy.everyMs, 'everyMs')
    } else {
      throw new ContinuumError(
        'CONTINUUM_INVALID_OPTIONS',
        "FileAuditSink: options.fsync must be 'always', 'never' or { everyRecords?, everyMs? } with at least one set",
      )
    }
  }

  async open(): Promise<string | undefined> {
    this.#handle = await this.#fileSystem.open(this.#path, 'a+')
    this.#size = (await this.#handle.stat()).size
    this.#lastSync = this.#clock.now()
    return this.#size === 0 ? undefined : readLastLine(this.#handle, this.#size, this.#path)
  }

  write(lines: readonly string[]): Promise<void> {
    return this.#serial(async () => {
      const handle = this.#opened()
      // A cut a failed write could not make is made now, before anything else is appended.
      if (this.#cutTo !== undefined) {
        await handle.truncate(this.#cutTo)
        this.#cutTo = undefined
      }
      const data = `${lines.join('\n')}\n`
      const before = this.#size
      try {
        await handle.appendFile(data)
        this.#size += Buffer.byteLength(data)
        this.#unsynced += lines.length
        if (this.#unsynced >= this.#everyRecords || this.#clock.now() - this.#lastSync >= this.#everyMs) {
          await this.#sync(handle)
        }
      } catch (error) {
        // A rejected write must leave none of its lines behind: the log retries exactly these
        // lines, so an append that tore, or one whose fsync failed after it landed, would
        // otherwise leave a torn line or a second copy of every record in the batch.
        if (this.#size !== before) this.#unsynced = Math.max(0, this.#unsynced - lines.length)
        this.#size = before
        this.#cutTo = before
        await handle.truncate(before).then(
          () => (this.#cutTo = undefined),
          () => {},
        )
        throw error
      }
      if (this.#unsynced > 0 && this.#timer === undefined && Number.isFinite(this.#everyMs)) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined
          this.#serial(() => this.#sync(this.#opened())).catch(() => {})
        }, this.#everyMs)
        this.#timer.unref()
      }
    })
  }

  flush(): Promise<void> {
    return this.#serial(() => this.#sync(this.#opened()))
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      const handle = this.#handle
      if (handle === undefined) return
      await this.#sync(handle)
      this.#handle = undefined
      await handle.close()
    })
  }

  async #sync(handle: AuditFileHandle): Promise<void> {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#unsynced === 0) return
    await handle.sync()
    this.#unsynced = 0
    this.#lastSync = this.#clock.now()
  }

  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(operation)
    this.#tail = result.catch(() => {})
    return result
  }

  #opened(): AuditFileHandle {
    if (this.#handle === undefined) {
      throw new ContinuumError(
        'CONTINUUM_AUDIT_WRITE_FAILED',
        'The audit file is not open (open() not called, or closed)',
      )
    }
    return this.#handle
  }
}

/** Reads the last line of a file that ends with a newline, backwards in chunks. */
async function readLastLine(handle: AuditFileHandle, size: number, path: string): Promise<string> {
  const chunks: Buffer[] = []
  let position = size
  let length = 0
  while (position > 0 && length <= MAX_LINE) {
    const chunkSize = Math.min(TAIL_CHUNK, position)
    position -= chunkSize
    const chunk = Buffer.alloc(chunkSize)
    const { bytesRead } = await handle.read(chunk, 0, chunkSize, position)
    chunks.unshift(chunk.subarray(0, bytesRead))
    length += bytesRead
    const tail = Buffer.concat(chunks)
    if (tail.at(-1) !== 0x0a) {
      throw new ContinuumError(
        'CONTINUUM_AUDIT_LOG_CORRUPT',
        `The audit log ${path} ends with an incomplete line (a torn write?); verify it and cut the partial line before appending`,
      )
    }
    const start = tail.lastIndexOf(0x0a, tail.length - 2)
    if (start >= 0 || position === 0) return tail.subarray(start + 1, tail.length - 1).toString('utf8')
  }
  throw new ContinuumError(
    'CONTINUUM_AUDIT_LOG_CORRUPT',
    `The last line of the audit log ${path} is over 4 MiB`,
  )
}

function positive(value: number | undefined, name: string): number {
  if (value === undefined) return Number.POSITIVE_INFINITY
  if (!Number.isFinite(value) || value <= 0) {
    throw new ContinuumError(
      'CONTINUUM_INVALID_OPTIONS',
      `FileAuditSink: options.fsync.${name} must be a positive number`,
    )
  }
  return value
}
