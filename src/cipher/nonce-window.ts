/**
 * The default, in-process memory of seen nonces. It never forgets a nonce early: each one is kept
 * for at least the span (twice the replay window), and when `capacity` nonces are held the window
 * answers `full` instead of evicting, so the caller refuses new requests (503) until the oldest
 * generation expires. Forgetting early would let a flood of fresh nonces push out one that an
 * attacker then replays inside its window.
 *
 * Nonces live in four generations, each covering a third of the span, and a whole generation is
 * dropped once the newer three cover the span: a nonce is held between 1 and 4/3 spans, with no
 * per-entry timers or sweeps. Each generation is an open-addressing table of 128-bit keyed
 * fingerprints in one typed array (16 bytes a slot, at most 3/4 full): compact, invisible to the
 * garbage collector's marking, and, because the fingerprint key is secret, not steerable into
 * collisions by whoever chooses the nonces. Two distinct nonces share a fingerprint with
 * probability about 2^-127 (a fresh request would then be refused as a replay, never the reverse).
 */
import { hash, randomBytes } from 'node:crypto'
import type { Clock } from '../core/clock'

/** What {@link NonceWindow.add} found. */
export type NonceAdmission = 'fresh' | 'seen' | 'full'

const GENERATIONS = 4
const WORDS = 4
const INITIAL_SLOTS = 1024
const MAX_LOAD = 0.75

/** One generation: a linear-probing set of 128-bit fingerprints (an all-zero slot is empty). */
class FingerprintTable {
  #slots: Uint32Array | undefined
  #mask = 0
  count = 0

  /** Bytes the table holds. */
  get bytes(): number {
    return this.#slots?.byteLength ?? 0
  }

  has(print: Uint32Array): boolean {
    const slots = this.#slots
    if (slots === undefined) return false
    for (let slot = print[1]! & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const at = slot * WORDS
      if (slots[at] === 0) return false
      if (
        slots[at] === print[0] &&
        slots[at + 1] === print[1] &&
        slots[at + 2] === print[2] &&
        slots[at + 3] === print[3]
      )
        return true
    }
  }

  /** Inserts a fingerprint known to be absent. */
  insert(print: Uint32Array): void {
    if (this.#slots === undefined) this.#resize(INITIAL_SLOTS)
    else if ((this.count + 1) / (this.#mask + 1) > MAX_LOAD) this.#resize((this.#mask + 1) * 2)
    this.#place(this.#slots!, this.#mask, print, 0)
    this.count++
  }

  #place(slots: Uint32Array, mask: number, source: Uint32Array, offset: number): void {
    let slot = source[offset + 1]! & mask
    while (slots[slot * WORDS] !== 0) slot = (slot + 1) & mask
    slots.set(source.subarray(offset, offset + WORDS), slot * WORDS)
  }

  #resize(slotCount: number): void {
    const old = this.#slots
    const slots = new Uint32Array(slotCount * WORDS)
    const mask = slotCount - 1
    if (old !== undefined) {
      for (let at = 0; at < old.length; at += WORDS) if (old[at] !== 0) this.#place(slots, mask, old, at)
    }
    this.#slots = slots
    this.#mask = mask
  }
}

/** Remembers nonces for at least `spanMs`, up to `capacity` of them; see the module comment. */
export class NonceWindow {
  readonly #sliceMs: number
  readonly #capacity: number
  readonly #clock: Clock
  /** The fingerprint key, as a prefix of the hashed text. */
  readonly #secret = randomBytes(32).toString('base64')
  readonly #print = new Uint32Array(WORDS)
  /** Newest first; at most GENERATIONS. */
  #tables: FingerprintTable[] = [new FingerprintTable()]
  /** When the newest generation began. */
  #startedAt: number

  /**
   * @param spanMs how long a nonce must be remembered (twice the replay window)
   * @param capacity most nonces held at once; past it `add` answers `full` instead of forgetting
   */
  constructor(spanMs: number, capacity: number, clock: Clock) {
    this.#sliceMs = spanMs / (GENERATIONS - 1)
    this.#capacity = capacity
    this.#clock = clock
    this.#startedAt = clock.now()
  }

  /** Nonces held. */
  get size(): number {
    let total = 0
    for (const table of this.#tables) total += table.count
    return total
  }

  /** Bytes of fingerprint storage held (what a nonce costs is this over `size`). */
  get bytes(): number {
    let total = 0
    for (const table of this.#tables) total += table.bytes
    return total
  }

  /** Records a nonce: `fresh` when new, `seen` when held already, `full` when new but there is no room. */
  add(nonce: string): NonceAdmission {
    this.#rotate()
    const print = this.#fingerprint(nonce)
    for (const table of this.#tables) if (table.has(print)) return 'seen'
    if (this.size >= this.#capacity) return 'full'
    this.#tables[0]!.insert(print)
    return 'fresh'
  }

  /** Milliseconds until the oldest held generation is dropped (when a `full` window has room again). */
  retryAfterMs(): number {
    this.#rotate()
    let oldest = 0
    this.#tables.forEach((table, index) => {
      if (table.count > 0) oldest = index
    })
    const dropAt = this.#startedAt + (GENERATIONS - oldest) * this.#sliceMs
    return Math.max(0, dropAt - this.#clock.now())
  }

  /** Starts a new generation per elapsed slice, dropping those past the span. */
  #rotate(): void {
    const now = this.#clock.now()
    const steps = Math.floor((now - this.#startedAt) / this.#sliceMs)
    if (steps <= 0) return
    if (steps >= GENERATIONS) {
      this.#tables = [new FingerprintTable()]
      this.#startedAt = now
      return
    }
    for (let step = 0; step < steps; step++) this.#tables.unshift(new FingerprintTable())
    this.#tables.length = Math.min(this.#tables.length, GENERATIONS)
    this.#startedAt += steps * this.#sliceMs
  }

  /** The keyed 128-bit fingerprint of a nonce; its first word is never 0 (0 marks an empty slot). */
  #fingerprint(nonce: string): Uint32Array {
    const digest = hash('sha256', this.#secret + nonce, 'buffer')
    const print = this.#print
    for (let word = 0; word < WORDS; word++) print[word] = digest.readUInt32LE(word * 4)
    print[0] = (print[0]! | 1) >>> 0
    return print
  }
}
