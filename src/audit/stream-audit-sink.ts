/**
 * A sink that writes JSON Lines to a writable stream, `process.stdout` by default: the form log
 * collectors (Fluent Bit, Vector, a container runtime) pick up. A stream has no past, so a log
 * written here always starts a fresh chain at seq 0 after a restart, unless an anchor is set.
 */
import type { AuditSink } from './audit-sink'

/** The part of a Node writable stream the sink uses. */
export interface AuditWritableStream {
  write(chunk: string, callback: (error?: Error | null) => void): boolean
}

/** Options of {@link StreamAuditSink}. */
export interface StreamAuditSinkOptions {
  /**
   * The stream to write to.
   * @default process.stdout
   */
  stream?: AuditWritableStream
}

/** Writes each batch as newline-terminated lines and waits for the stream to accept them. */
export class StreamAuditSink implements AuditSink {
  readonly #stream: AuditWritableStream

  constructor(options: StreamAuditSinkOptions = {}) {
    this.#stream = options.stream ?? process.stdout
  }

  write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.#stream.write(`${lines.join('\n')}\n`, (error) => (error ? reject(error) : resolve()))
    })
  }
}
