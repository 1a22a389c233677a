/**
 * Fresh IVs from a pooled CSPRNG buffer. Asking the OS-backed generator for 12 bytes per field
 * costs more than the AES-GCM operation itself; drawing 4 KiB at a time and handing out disjoint
 * slices keeps every IV independent and unpredictable while amortising that cost.
 */
import { randomFillSync } from 'node:crypto'

const POOL_SIZE = 4096
const pool = Buffer.alloc(POOL_SIZE)
let offset = POOL_SIZE

/**
 * `length` fresh random bytes as a view into the pool, valid until the pool refills: for a caller
 * that uses them at once (an IV handed to the cipher and copied into the ciphertext). Each view is
 * handed out once; the pool is refilled, never reread, once spent.
 */
export function randomView(length: number): Buffer {
  if (length > POOL_SIZE) return randomFillSync(Buffer.alloc(length))
  if (offset + length > POOL_SIZE) {
    randomFillSync(pool)
    offset = 0
  }
  const bytes = pool.subarray(offset, offset + length)
  offset += length
  return bytes
}
