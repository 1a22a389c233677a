/**
 * Maps a feature's vector index to its dense slot (first-seen order) for the features of one
 * text at a time. A prompt chunk has at most a few thousand distinct features while the vector
 * has 2^18 indices, so a table indexed by vector index (1 MB) missed the cache on nearly every
 * lookup. This one is an open-addressing table sized to the text: twice as many entries as the
 * text can have distinct features (so it stays at most half full), never more than the vector
 * has indices. At that cap the probe start is the index itself and no two keys ever collide,
 * which is the direct table again, so long texts cost what they did. Only the lookup changed:
 * slots are handed out in the same order, so every sum over them runs in the same order.
 */

/** Entries a table starts with; it grows, by doubling, to what the longest text needed. */
const INITIAL_ENTRIES = 1024

/** An index → slot map for the current text. Not re-entrant (one JS thread). */
export class SlotTable {
  /** Largest number of entries: the vector size. */
  private readonly limit: number
  /**
   * Entry e is `pairs[2e]`, the vector index + 1 it holds (0 when empty), and `pairs[2e + 1]`, the
   * slot of that index: side by side, so a lookup reads one cache line.
   */
  private pairs: Int32Array
  /** Mask of the entries the current text uses (their number minus one). */
  private mask: number
  /** Per slot: the entry it sits in, so clearing touches only the used entries. */
  private entries: Int32Array
  private used = 0

  constructor(dimension: number) {
    this.limit = dimension
    const size = Math.min(dimension, INITIAL_ENTRIES)
    this.pairs = new Int32Array(2 * size)
    this.entries = new Int32Array(size)
    this.mask = size - 1
  }

  /**
   * Sizes the table for a text with at most `capacity` distinct features; call while it is
   * empty. The entries used are a power of two from twice the capacity up to the vector size.
   */
  prepare(capacity: number): void {
    let size = INITIAL_ENTRIES
    while (size < 2 * capacity && size < this.limit) size *= 2
    size = Math.min(size, this.limit)
    if (2 * size > this.pairs.length) this.pairs = new Int32Array(2 * size)
    if (this.entries.length < Math.min(capacity, this.limit)) {
      this.entries = new Int32Array(Math.min(this.limit, Math.max(capacity, 2 * this.entries.length)))
    }
    this.mask = size - 1
  }

  /**
   * Makes room for `count` slots in all, growing the table while it is in use when they would
   * fill more than half of it: every slot so far (slot s holds vector index `indices[s]`) moves to
   * the larger table and keeps its number. For a table whose texts' distinct features are not
   * known in advance (a document assembled chunk by chunk: a long repetitive one has few).
   */
  reserve(count: number, indices: Int32Array): void {
    const size = this.mask + 1
    if (2 * count <= size || size === this.limit) return
    let grown = size
    while (grown < 2 * count && grown < this.limit) grown *= 2
    grown = Math.min(grown, this.limit)
    const used = this.used
    this.clear()
    this.prepare(grown >> 1)
    if (this.entries.length < count) {
      const entries = new Int32Array(Math.min(this.limit, Math.max(count, 2 * this.entries.length)))
      this.entries = entries
    }
    for (let slot = 0; slot < used; slot++) {
      const index = indices[slot]!
      this.insert(-1 - this.find(index), index, slot)
    }
  }

  /**
   * The slot of vector index `index`, or `-1 - entry` when it has none yet: `entry` is where
   * {@link insert} must put it. Linear probing from the index's low bits (already a hash).
   */
  find(index: number): number {
    const pairs = this.pairs
    const mask = this.mask
    const key = index + 1
    let entry = index & mask
    for (;;) {
      const held = pairs[2 * entry]!
      if (held === key) return pairs[2 * entry + 1]!
      if (held === 0) return -1 - entry
      entry = (entry + 1) & mask
    }
  }

  /** Records that `index` has slot `slot` (the next one), in the entry {@link find} returned. */
  insert(entry: number, index: number, slot: number): void {
    this.pairs[2 * entry] = index + 1
    this.pairs[2 * entry + 1] = slot
    this.entries[slot] = entry
    this.used = slot + 1
  }

  /** Empties the table (cost proportional to the slots used, not to the table). */
  clear(): void {
    const pairs = this.pairs
    const entries = this.entries
    for (let slot = 0; slot < this.used; slot++) pairs[2 * entries[slot]!] = 0
    this.used = 0
  }
}
