/**
 * CKKS parameter sets. Every set is checked against the HomomorphicEncryption.org 128-bit
 * security table (the largest total coefficient-modulus size allowed for each ring degree) before
 * SEAL sees it, so an insecure set fails at construction with a clear code instead of producing
 * keys that look fine and protect nothing.
 */
import { createHash } from 'node:crypto'
import { ContinuumError } from '../errors'

/**
 * Largest total coefficient-modulus bit count for 128-bit classical security, by ring degree
 * (HomomorphicEncryption.org security standard, ternary secrets; SEAL's `CoeffModulus.MaxBitCount`).
 */
export const SECURITY_128_MAX_MODULUS_BITS: Readonly<Record<number, number>> = Object.freeze({
  1024: 27,
  2048: 54,
  4096: 109,
  8192: 218,
  16384: 438,
  32768: 881,
})

/** A CKKS parameter set: ring degree, the prime chain and the encoding scale. */
export interface CkksParameters {
  /** Ring degree N (a power of two, 1024..32768); N/2 slots per ciphertext. */
  readonly polyModulusDegree: number
  /**
   * Bit sizes of the coefficient-modulus primes: first the prime that carries results, then one
   * prime per rescaling, last the special key-switching prime. At least three.
   */
  readonly coeffModulusBits: readonly number[]
  /** log2 of the encoding scale; equals the rescaled-away prime size so scales stay stable. */
  readonly scaleBits: number
}

/** The named presets. */
export const CKKS_PRESETS = Object.freeze({
  /** N=4096, 2048 slots, 109 bits: small and fast; about 1e-5 absolute error on unit-scale scores. */
  'ckks-4096': Object.freeze({
    polyModulusDegree: 4096,
    coeffModulusBits: Object.freeze([40, 29, 40]),
    scaleBits: 29,
  }),
  /** N=8192, 4096 slots, 140 bits: the default; about 1e-8 absolute error; fits 768-dim embeddings. */
  'ckks-8192': Object.freeze({
    polyModulusDegree: 8192,
    coeffModulusBits: Object.freeze([60, 40, 60]),
    scaleBits: 40,
  }),
  /** N=16384, 8192 slots, 200 bits: for vectors of up to 8192 dimensions. */
  'ckks-16384': Object.freeze({
    polyModulusDegree: 16384,
    coeffModulusBits: Object.freeze([60, 40, 40, 60]),
    scaleBits: 40,
  }),
} satisfies Record<string, CkksParameters>)

/** Name of a preset. */
export type CkksPresetName = keyof typeof CKKS_PRESETS

/** A parameter set after validation, with derived values computed once. */
export interface ResolvedCkksParameters extends CkksParameters {
  /** The preset name, or `custom`. */
  readonly name: string
  /** N/2. */
  readonly slotCount: number
  /** 2^scaleBits. */
  readonly scale: number
  /** Sum of the prime sizes. */
  readonly totalModulusBits: number
  /** Short hex digest naming the set, stamped on every key and ciphertext envelope. */
  readonly fingerprint: string
}

const invalid = (message: string): ContinuumError =>
  new ContinuumError('CONTINUUM_FHE_INSECURE_PARAMETERS', message)

/**
 * Validates a preset name or a custom set against the 128-bit bounds and the shape this library
 * needs (a rescaling prime and a special prime). Throws `CONTINUUM_FHE_INSECURE_PARAMETERS`.
 */
export function resolveCkksParameters(
  parameters: CkksPresetName | CkksParameters = 'ckks-8192',
): ResolvedCkksParameters {
  let name = 'custom'
  let set: CkksParameters
  if (typeof parameters === 'string') {
    if (!Object.hasOwn(CKKS_PRESETS, parameters)) {
      throw invalid(
        `Unknown CKKS preset "${String(parameters)}"; use one of ${Object.keys(CKKS_PRESETS).join(', ')}`,
      )
    }
    name = parameters
    set = CKKS_PRESETS[parameters]
  } else {
    set = parameters
  }
  const { polyModulusDegree, coeffModulusBits, scaleBits } = set
  const bound = SECURITY_128_MAX_MODULUS_BITS[polyModulusDegree]
  if (bound === undefined) {
    throw invalid(
      `polyModulusDegree must be a power of two from 1024 to 32768, got ${String(polyModulusDegree)}`,
    )
  }
  if (!Array.isArray(coeffModulusBits) || coeffModulusBits.length < 3) {
    throw invalid(
      'coeffModulusBits needs at least three primes: result prime, one rescaling prime, special prime',
    )
  }
  for (const bits of coeffModulusBits) {
    if (!Number.isInteger(bits) || bits < 20 || bits > 60) {
      throw invalid(`every coefficient-modulus prime must be 20 to 60 bits, got ${String(bits)}`)
    }
  }
  const totalModulusBits = coeffModulusBits.reduce((sum, bits) => sum + bits, 0)
  if (totalModulusBits > bound) {
    throw invalid(
      `coefficient modulus of ${totalModulusBits} bits exceeds the 128-bit security bound of ${bound} bits for N=${polyModulusDegree}`,
    )
  }
  const rescalePrimes = coeffModulusBits.slice(1, -1)
  if (
    !Number.isInteger(scaleBits) ||
    scaleBits < 20 ||
    rescalePrimes.some((bits) => Math.abs(bits - scaleBits) > 1)
  ) {
    throw invalid('scaleBits must equal the size of the rescaling primes (the middle primes), at least 20')
  }
  if (coeffModulusBits[0]! <= scaleBits) {
    throw invalid('the first prime must be larger than scaleBits so rescaled results keep headroom')
  }
  const canonical = `ckks;${polyModulusDegree};${coeffModulusBits.join(',')};${scaleBits}`
  return Object.freeze({
    name,
    polyModulusDegree,
    coeffModulusBits: Object.freeze([...coeffModulusBits]),
    scaleBits,
    slotCount: polyModulusDegree / 2,
    scale: 2 ** scaleBits,
    totalModulusBits,
    fingerprint: createHash('sha256').update(canonical).digest('hex').slice(0, 16),
  })
}
