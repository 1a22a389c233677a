/**
 * Where signed audit lines go. The AuditLog signs records in its background writer and hands a
 * sink whole batches of JSON lines, one call at a time (never concurrently), so a sink only has to
 * append them in order. Implement this interface to ship records to a database, a queue or a
 * remote collector; the file, stream and memory sinks in this folder are the built-in ones.
 */

/** A destination for signed audit lines. Calls are never concurrent. */
export interface AuditSink {
  /**
   * Called once before the first write. Resolves the last line already stored (without its
   * newline) so a restarted log continues the chain, or `undefined` for an empty destination.
   */
  open?(): Promise<string | undefined>
  /**
   * Appends lines (JSON, no newline) in order. When it rejects, the AuditLog keeps the batch and
   * retries the same lines later, so a sink should leave nothing of a failed batch behind.
   */
  write(lines: readonly string[]): Promise<void>
  /** Makes everything written so far durable (fsync, flush of a client buffer). */
  flush?(): Promise<void>
  /** Flushes and releases the destination; called once by `AuditLog.close()`. */
  close?(): Promise<void>
}
