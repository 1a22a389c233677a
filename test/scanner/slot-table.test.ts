/**
 * The feature hasher's index → slot table: it must map every index of one text to the slot it
 * was first given, whatever collides with it, at every table size up to the direct table, and
 * forget everything on clear. The scanner's exact scores depend on it (decision-fingerprint.test.ts
 * pins them); this test names the table's own contract.
 */
import { describe, expect, it } from 'vitest'
import { SlotTable } from '../../src/scanner/slot-table'

/** Looks `index` up, inserting it as the next slot when new; the slot it has. */
function slotOf(table: SlotTable, index: number, next: { slot: number }): number {
  const found = table.find(index)
  if (found >= 0) return found
  table.insert(-1 - found, index, next.slot)
  return next.slot++
}

describe('SlotTable', () => {
  it('keeps first-seen slots through collisions, at small and direct sizes, and forgets on clear', () => {
    const dimension = 1 << 12
    const table = new SlotTable(dimension)
    for (const capacity of [1, 100, 1500, dimension]) {
      for (let round = 0; round < 2; round++) {
        table.prepare(capacity)
        const next = { slot: 0 }
        const expected = new Map<number, number>()
        // Indices 1024 apart share their low bits, so they collide in every table smaller than
        // the vector; the stride walks the rest of the range.
        const indices: number[] = []
        for (let index = round; indices.length < capacity; index = (index + 1024 + 7) % dimension)
          indices.push(index)
        for (const index of [...indices, ...indices.slice().reverse()]) {
          const slot = slotOf(table, index, next)
          if (!expected.has(index)) expected.set(index, slot)
          expect(slot).toBe(expected.get(index))
        }
        expect(next.slot).toBe(expected.size)
        table.clear()
        for (const index of indices) expect(table.find(index)).toBeLessThan(0)
      }
    }
  })
})
