/**
 * An in-memory sink: for tests of code that audits, and for shipping records to a custom place
 * from an `onWrite` hook without implementing the whole interface. Lines stay in `lines`.
 */
import type { AuditSink } from './audit-sink'

/** Keeps every written line in memory. */
export class MemoryAuditSink implements AuditSink {
  /** Every line written, in order, without newlines. */
  readonly lines: string[]

  /** @param existing lines already stored, as if the log were restarted over them */
  constructor(existing: readonly string[] = []) {
    this.lines = [...existing]
  }

  async open(): Promise<string | undefined> {
    return this.lines.at(-1)
  }

  async write(lines: readonly string[]): Promise<void> {
    this.lines.push(...lines)
  }
}
