/**
 * Bounds on the SEAL bytes a client sends, checked before SEAL reads them. SEAL inflates a
 * compressed object completely before looking at it, and reserves room for the key counts a key
 * set declares before reading the keys: 32 KB of zstd-compressed zeros grew a worker's WASM heap
 * by 3.7 GB, and a 64-byte Galois key set declaring 10^7 keys by 105 MB, and a WASM heap never
 * shrinks. So every object is inflated here, at most to the largest size a valid object of its
 * kind has under the parameter set, its key counts are checked against the parameter set, and
 * SEAL is handed the uncompressed form, whose size is then what the caller's quota is charged.
 *
 * SEAL's layout: a 16-byte header (magic 0xA15E little-endian, header size 16, version major and
 * minor, compression mode, 2 reserved bytes, total size u64) and the members. Key-switching keys
 * (Galois and relinearisation keys): parms id (32 bytes), the key count u64, and per key the
 * count of its parts u64 followed by that many uncompressed public keys, each with its header.
 */
import * as zlib from 'node:zlib'
import { ContinuumError } from '../errors'
import type { ResolvedCkksParameters } from './params'

/**
 * zstd, which SEAL compresses with by default. node:zlib has it from Node 22.15; the package
 * supports 22.12, where it is looked up at run time so the module still loads, and a zstd object
 * is refused with a message that names the fix.
 */
function zstd(packed: Buffer, maxOutputLength: number): Buffer {
  const decompress = (
    zlib as { zstdDecompressSync?: (input: Buffer, options: { maxOutputLength: number }) => Buffer }
  ).zstdDecompressSync
  if (decompress === undefined) {
    throw new ContinuumError(
      'CONTINUUM_FHE_MALFORMED_PAYLOAD',
      'SEAL object is zstd-compressed, which needs Node >= 22.15 on the server; send it uncompressed or with zlib',
    )
  }
  return decompress(packed, { maxOutputLength })
}

const HEADER_BYTES = 16
const PARMS_ID_BYTES = 32
/** Metadata of one serialized ciphertext or public key past its polynomials, generously. */
const OBJECT_OVERHEAD = 256

/** What a SEAL object must be: a ciphertext or public key, or a key-switching key set. */
export type SealObjectShape =
  | { readonly kind: 'ciphertext' }
  | { readonly kind: 'switchKeys'; readonly maxKeys: number }

const malformed = (message: string): ContinuumError =>
  new ContinuumError('CONTINUUM_FHE_MALFORMED_PAYLOAD', message)

/** The largest serialized ciphertext or public key: two polynomials over every prime. */
function ciphertextBound(parameters: ResolvedCkksParameters): number {
  return (
    HEADER_BYTES + OBJECT_OVERHEAD + 2 * parameters.polyModulusDegree * parameters.coeffModulusBits.length * 8
  )
}

/** The largest valid object of a shape under a parameter set, header included. */
export function sealObjectBound(shape: SealObjectShape, parameters: ResolvedCkksParameters): number {
  if (shape.kind === 'ciphertext') return ciphertextBound(parameters)
  // One part per prime of the data level; a key index per Galois element below 2N.
  const parts = parameters.coeffModulusBits.length - 1
  return (
    HEADER_BYTES +
    PARMS_ID_BYTES +
    8 +
    parameters.polyModulusDegree * 8 +
    shape.maxKeys * parts * ciphertextBound(parameters)
  )
}

/**
 * Inflates a SEAL object within its bound; returns it uncompressed, its key counts checked. Past
 * the bound it is `CONTINUUM_FHE_MALFORMED_PAYLOAD` (no valid object is that large); past a
 * smaller `limit` (what the caller may still hold) it is `CONTINUUM_BODY_TOO_LARGE`.
 */
export function boundedSealObject(
  bytes: Uint8Array,
  shape: SealObjectShape,
  parameters: ResolvedCkksParameters,
  limit = Number.POSITIVE_INFINITY,
): Uint8Array {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const valid = sealObjectBound(shape, parameters)
  const bound = Math.min(valid, limit)
  const tooLarge = (): ContinuumError =>
    bound < valid
      ? new ContinuumError('CONTINUUM_BODY_TOO_LARGE', `SEAL object inflates past ${bound} bytes`, {
          details: { limit: bound },
        })
      : malformed(`SEAL object inflates past ${bound} bytes, more than any valid one`)
  if (input.length < HEADER_BYTES || input[0] !== 0x5e || input[1] !== 0xa1 || input[2] !== HEADER_BYTES) {
    throw malformed('SEAL object has no valid header')
  }
  if (input.readBigUInt64LE(8) !== BigInt(input.length)) throw malformed('SEAL object size does not match')
  const mode = input[5]
  const packed = input.subarray(HEADER_BYTES)
  let members: Buffer
  try {
    if (mode === 0) members = packed
    else if (mode === 1)
      members = zlib.inflateSync(packed, { maxOutputLength: Math.max(1, bound - HEADER_BYTES) })
    else if (mode === 2) members = zstd(packed, Math.max(1, bound - HEADER_BYTES))
    else throw malformed(`SEAL object has compression mode ${mode}`)
  } catch (error) {
    if (ContinuumError.isInstance(error)) throw error
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge()
    throw malformed('SEAL object does not inflate')
  }
  if (HEADER_BYTES + members.length > bound) throw tooLarge()
  if (shape.kind === 'switchKeys') checkSwitchKeys(members, shape.maxKeys, parameters)
  if (mode === 0) return Uint8Array.from(input)
  const output = new Uint8Array(HEADER_BYTES + members.length)
  output.set(input.subarray(0, HEADER_BYTES))
  output[5] = 0
  Buffer.from(output.buffer).writeBigUInt64LE(BigInt(output.length), 8)
  output.set(members, HEADER_BYTES)
  return output
}

/** Walks a key-switching key set: counts within the parameter set, parts uncompressed and bounded. */
function checkSwitchKeys(members: Buffer, maxKeys: number, parameters: ResolvedCkksParameters): void {
  const partBound = ciphertextBound(parameters)
  const maxParts = parameters.coeffModulusBits.length - 1
  const readCount = (offset: number, limit: number, what: string): number => {
    if (offset + 8 > members.length) throw malformed('SEAL key set is truncated')
    const count = members.readBigUInt64LE(offset)
    if (count > BigInt(limit)) throw malformed(`SEAL key set declares ${count} ${what}, at most ${limit} fit`)
    return Number(count)
  }
  let offset = PARMS_ID_BYTES
  const indices = readCount(offset, parameters.polyModulusDegree, 'keys')
  offset += 8
  let keys = 0
  for (let index = 0; index < indices; index++) {
    const parts = readCount(offset, maxParts, 'key parts')
    offset += 8
    if (parts > 0 && ++keys > maxKeys) throw malformed(`SEAL key set holds more than ${maxKeys} keys`)
    for (let part = 0; part < parts; part++) {
      if (offset + HEADER_BYTES > members.length) throw malformed('SEAL key set is truncated')
      const size = members.readBigUInt64LE(offset + 8)
      if (members[offset + 5] !== 0 || size < HEADER_BYTES || size > BigInt(partBound)) {
        throw malformed('SEAL key part is compressed or oversized')
      }
      offset += Number(size)
    }
  }
  if (offset !== members.length) throw malformed('SEAL key set has trailing or missing bytes')
}
