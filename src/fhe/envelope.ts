/**
 * The binary envelope around every key bundle and ciphertext this library exchanges. SEAL bytes
 * do not say which secret key made them, and a ciphertext under another key decrypts to noise
 * without any error, so the envelope stamps the key id and the parameter-set fingerprint; the
 * server checks both before handing bytes to SEAL, and a mix-up becomes a clear 400.
 *
 * Layout: "CFHE" | version u8 | kind u8 | fingerprint 8 bytes | key id length u8 | key id (UTF-8)
 * | section count u8 | sections (tag u8, length u32 big-endian, bytes).
 *
 * The key id of evaluation keys is not a name the client picks: it is a digest of the key
 * material ({@link evaluationKeyId}), so keys filed under an id can only ever be those keys, and
 * nobody who sees the id in a query envelope can upload other keys under it.
 */
import { createHash } from 'node:crypto'
import { ContinuumError } from '../errors'

const MAGIC = [0x43, 0x46, 0x48, 0x45] as const
const VERSION = 1
const HEADER_FIXED = 4 + 1 + 1 + 8 + 1

/** What an envelope carries. */
export const EnvelopeKind = Object.freeze({ ciphertext: 1, evaluationKeys: 2, secretKey: 3 })
export type EnvelopeKind = (typeof EnvelopeKind)[keyof typeof EnvelopeKind]

/** Section tags. */
export const SectionTag = Object.freeze({
  ciphertext: 1,
  publicKey: 2,
  relinKeys: 3,
  galoisKeys: 4,
  galoisSteps: 5,
  secretKey: 6,
  /** In a secret-key export: the evaluation-key ids issued for the key pair, newline-separated. */
  issuedKeyIds: 7,
})

/** A parsed envelope. */
export interface Envelope {
  readonly kind: EnvelopeKind
  readonly fingerprint: string
  readonly keyId: string
  readonly sections: ReadonlyMap<number, Uint8Array>
}

const KEY_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/

/** Whether a key id is well formed: 1 to 128 of `A-Z a-z 0-9 . _ : -`. */
export function isValidKeyId(keyId: unknown): keyId is string {
  return typeof keyId === 'string' && KEY_ID_PATTERN.test(keyId)
}

const malformed = (message: string): ContinuumError =>
  new ContinuumError('CONTINUUM_FHE_MALFORMED_PAYLOAD', message)

/** Serialises an envelope. */
export function encodeEnvelope(
  kind: EnvelopeKind,
  fingerprint: string,
  keyId: string,
  sections: ReadonlyArray<readonly [number, Uint8Array]>,
): Uint8Array {
  if (!isValidKeyId(keyId))
    throw new ContinuumError('CONTINUUM_INVALID_OPTIONS', 'FHE key id must be 1-128 of A-Z a-z 0-9 . _ : -')
  const keyIdBytes = Buffer.from(keyId, 'utf8')
  const total =
    HEADER_FIXED + keyIdBytes.length + 1 + sections.reduce((sum, [, bytes]) => sum + 5 + bytes.length, 0)
  const output = Buffer.allocUnsafe(total)
  let offset = 0
  for (const byte of MAGIC) output[offset++] = byte
  output[offset++] = VERSION
  output[offset++] = kind
  offset += output.write(fingerprint, offset, 8, 'hex')
  output[offset++] = keyIdBytes.length
  offset += keyIdBytes.copy(output, offset)
  output[offset++] = sections.length
  for (const [tag, bytes] of sections) {
    output[offset++] = tag
    output.writeUInt32BE(bytes.length, offset)
    offset += 4
    output.set(bytes, offset)
    offset += bytes.length
  }
  return new Uint8Array(output.buffer, output.byteOffset, output.length)
}

/** Parses an envelope; any structural problem is `CONTINUUM_FHE_MALFORMED_PAYLOAD`. */
export function decodeEnvelope(bytes: Uint8Array, expectedKind: EnvelopeKind): Envelope {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (input.length < HEADER_FIXED + 2 || MAGIC.some((byte, index) => input[index] !== byte)) {
    throw malformed('Payload is not a continuum FHE envelope')
  }
  if (input[4] !== VERSION) {
    throw new ContinuumError(
      'CONTINUUM_UNSUPPORTED_VERSION',
      `FHE envelope version ${input[4]} is not supported`,
    )
  }
  const kind = input[5] as EnvelopeKind
  if (kind !== expectedKind) throw malformed(`FHE envelope holds kind ${kind}, expected kind ${expectedKind}`)
  const fingerprint = input.subarray(6, 14).toString('hex')
  const keyIdLength = input[14]!
  let offset = HEADER_FIXED
  if (offset + keyIdLength + 1 > input.length) throw malformed('FHE envelope is truncated')
  const keyId = input.subarray(offset, offset + keyIdLength).toString('utf8')
  if (!isValidKeyId(keyId)) throw malformed('FHE envelope carries a malformed key id')
  offset += keyIdLength
  const sectionCount = input[offset++]!
  const sections = new Map<number, Uint8Array>()
  for (let index = 0; index < sectionCount; index++) {
    if (offset + 5 > input.length) throw malformed('FHE envelope is truncated')
    const tag = input[offset]!
    const length = input.readUInt32BE(offset + 1)
    offset += 5
    if (offset + length > input.length) throw malformed('FHE envelope section is truncated')
    if (sections.has(tag)) throw malformed('FHE envelope repeats a section')
    sections.set(tag, new Uint8Array(input.buffer, input.byteOffset + offset, length))
    offset += length
  }
  if (offset !== input.length) throw malformed('FHE envelope has trailing bytes')
  return { kind, fingerprint, keyId, sections }
}

/** Encodes a list of rotation steps as a section. */
export function encodeSteps(steps: readonly number[]): Uint8Array {
  const output = Buffer.allocUnsafe(steps.length * 4)
  for (const [index, step] of steps.entries()) output.writeInt32BE(step, index * 4)
  return new Uint8Array(output.buffer, output.byteOffset, output.length)
}

/** Decodes a rotation-step section. */
export function decodeSteps(bytes: Uint8Array): number[] {
  if (bytes.length % 4 !== 0 || bytes.length > 4 * 64) throw malformed('Galois step list is malformed')
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return Array.from({ length: bytes.length / 4 }, (_, index) => input.readInt32BE(index * 4))
}

const KEY_ID_DOMAIN = Buffer.from('continuum-fhe-key-id/v1\n')

/**
 * The key id of a key bundle: `fhe-` and the SHA-256, in hex, of the parameter fingerprint and
 * every section (tag, length, bytes) in tag order. Any other bytes give another id.
 */
export function evaluationKeyId(
  fingerprint: string,
  sections: Iterable<readonly [number, Uint8Array]>,
): string {
  const hash = createHash('sha256').update(KEY_ID_DOMAIN).update(Buffer.from(fingerprint, 'hex'))
  const header = Buffer.alloc(5)
  for (const [tag, bytes] of [...sections].sort(([left], [right]) => left - right)) {
    header[0] = tag
    header.writeUInt32BE(bytes.byteLength, 1)
    hash.update(header).update(bytes)
  }
  return `fhe-${hash.digest('hex')}`
}
