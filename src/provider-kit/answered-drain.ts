/**
 * What becomes of a streamed body the provider stopped reading because the answer was whole (its
 * terminal event arrived). Aborting then would cost the keep-alive connection whenever the server
 * sends its last bytes a moment after the terminal event, as servers do (the end of a chunked
 * body is its own write): every stream would open a new connection and leave a socket in
 * TIME_WAIT. So the rest is read and dropped in the background, for at most a second and 64 KiB,
 * while the consumer has its answer at once; a server that holds the connection open, or keeps
 * sending, is cut off at either bound. A stream the consumer leaves before its answer is whole is
 * aborted at once instead (provider-http.ts), so the server stops generating.
 */

/** Longest wait for the rest of an answered body. */
const DRAIN_MS = 1000
/** Most bytes read after the answer before the request is aborted. */
const DRAIN_BYTES = 64 * 1024

/** The call a drained body belongs to. */
export interface DrainedCall {
  /** Stops listening to the caller's signal: the caller has its answer, only the bounds apply now. */
  detachCaller(): void
  /** The body was read to its end: the connection can be reused. */
  finish(): void
  /** Ends the call, aborting the request unless it finished. */
  dispose(): void
}

/** Reads the rest of `body` in the background, then disposes of `call`; never throws or rejects. */
export function drainAnswered(body: AsyncIterator<Uint8Array>, call: DrainedCall): void {
  // The router aborts an attempt's signal once its stream ended, answered or not.
  call.detachCaller()
  const deadline = setTimeout(() => call.dispose(), DRAIN_MS)
  // A draining body never keeps the process alive.
  deadline.unref?.()
  void (async () => {
    let bytes = 0
    try {
      for (let next = await body.next(); !next.done; next = await body.next()) {
        bytes += next.value.byteLength
        if (bytes > DRAIN_BYTES) return
      }
      call.finish()
    } catch {
      // Aborted at the deadline, by the caller, or the server failed: the answer was whole already.
    } finally {
      clearTimeout(deadline)
      call.dispose()
    }
  })()
}
