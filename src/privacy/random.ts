/**
 * Uniform randomness for noise mechanisms. The default draws 53-bit doubles from
 * `crypto.randomBytes`; tests inject a seeded generator so noise is reproducible.
 */
import { randomBytes } from 'node:crypto'

/** A source of uniform doubles in [0, 1). */
export type UniformRandom = () => number

/** Uniform doubles from the operating system's CSPRNG, buffered 1 KiB at a time. */
export function cryptoUniform(): UniformRandom {
  let buffer = randomBytes(1024)
  let offset = 0
  return () => {
    if (offset + 8 > buffer.length) {
      buffer = randomBytes(1024)
      offset = 0
    }
    const high = buffer.readUInt32BE(offset) >>> 5
    const low = buffer.readUInt32BE(offset + 4) >>> 6
    offset += 8
    return (high * 67108864 + low) / 9007199254740992
  }
}

/** A seeded generator (mulberry32) for tests; not for production noise. */
export function seededUniform(seed: number): UniformRandom {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }
}
