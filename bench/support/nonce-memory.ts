/**
 * Child process of the proxy benchmark: fills the default replay memory (the in-process
 * NonceWindow behind ReplayGuard) with N nonces as the proxy stores them, and reports what they
 * cost after a forced GC: the window's own table bytes, and the process's heap plus array-buffer
 * growth, each over N. Run with --expose-gc.
 */
import { randomBytes } from 'node:crypto'
import { NonceWindow } from '../../src/cipher/nonce-window'

const count = Number(process.argv[2] ?? 1_000_000)

function used(): number {
  globalThis.gc?.()
  const memory = process.memoryUsage()
  return memory.heapUsed + memory.arrayBuffers
}

const window = new NonceWindow(600_000, count, { now: () => 0 })
// Nonces as clients send them (16 random bytes, base64url), prefixed with the key id.
const nonces = Array.from({ length: 1000 }, () => randomBytes(16).toString('base64url'))
const before = used()
const started = performance.now()
for (let index = 0; index < count; index++) window.add(`bench:${nonces[index % 1000]}${index}`)
const microseconds = ((performance.now() - started) * 1000) / count
const after = used()
process.send?.({
  nonces: window.size,
  tableBytesPerNonce: window.bytes / window.size,
  processBytesPerNonce: (after - before) / window.size,
  microsecondsPerAdd: microseconds,
})
